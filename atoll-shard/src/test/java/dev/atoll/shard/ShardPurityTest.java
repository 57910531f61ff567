package dev.atoll.shard;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The sharding logic stays pure (DESIGN.md section 2): no clocks, threads, I/O or unseeded
 * randomness, and nothing but atoll-core from Atoll (the server will drive it, not the reverse).
 */
class ShardPurityTest {
    static final JavaClasses SHARD = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.atoll.shard");

    @Test
    void touchesNoClockThreadIoOrUnseededRandomness() {
        noClasses().should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(Math.class, "random")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.Random")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.SplittableRandom")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.security.SecureRandom")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.concurrent.ThreadLocalRandom")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.lang.Thread")
                .orShould().dependOnClassesThat().resideInAnyPackage("java.io..", "java.nio.file..", "java.nio.channels..",
                        "java.net..", "java.time..", "java.util.concurrent..")
                .check(SHARD);
    }

    @Test
    void dependsOnNoOtherAtollModuleThanCore() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.atoll.consensus..", "dev.atoll.storage..",
                        "dev.atoll.server..", "dev.atoll.sim..", "dev.atoll.proto..")
                .check(SHARD);
    }
}
