# Sourced by ./atoll and .ci/run: sets JAVA_HOME to a JDK >= 21, or explains and exits.
# Order: $JAVA_HOME, then the JDKs installed under /usr/lib/jvm (newest first), then `java` on PATH.

atoll_java_major() {
    # prints the feature version of the java binary $1 (17, 21, 25, ...), or nothing
    "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -1
}

atoll_pick_jdk() {
    local candidate major
    for candidate in "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV) /Library/Java/JavaVirtualMachines/*/Contents/Home; do
        candidate="${candidate%/}"
        [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
        major="$(atoll_java_major "$candidate/bin/java")"
        if [ -n "$major" ] && [ "$major" -ge 21 ]; then
            export JAVA_HOME="$candidate"
            return 0
        fi
    done
    if command -v javac >/dev/null 2>&1; then
        candidate="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
        major="$(atoll_java_major "$candidate/bin/java")"
        if [ -n "$major" ] && [ "$major" -ge 21 ]; then
            export JAVA_HOME="$candidate"
            return 0
        fi
    fi
    echo "atoll: needs a JDK 21 or newer, and none was found." >&2
    echo "       looked at JAVA_HOME (${JAVA_HOME:-unset}), /usr/lib/jvm/* and javac on PATH." >&2
    echo "       install one (e.g. Temurin 21 or 25) and set JAVA_HOME to it." >&2
    exit 2
}

atoll_pick_jdk
export PATH="$JAVA_HOME/bin:$PATH"
