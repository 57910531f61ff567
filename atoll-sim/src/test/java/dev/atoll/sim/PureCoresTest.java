package dev.atoll.sim;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * DESIGN.md section 2, enforced: protocol cores and the sharding logic (and the simulator that replays them) touch no
 * clock, thread, socket, file or unseeded randomness. Only {@link Campaign}, which runs seeds in
 * parallel and reports wall time, is outside the rule.
 */
class PureCoresTest {
    private static JavaClasses deterministic;

    @BeforeAll
    static void importClasses() {
        deterministic = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.atoll.core", "dev.atoll.consensus", "dev.atoll.shard", "dev.atoll.sim")
                .that(com.tngtech.archunit.base.DescribedPredicate.describe("not the campaign runner",
                        c -> !c.getName().startsWith(Campaign.class.getName())
                                && !c.getName().endsWith("LinearizabilityThroughput")));
    }

    @Test
    void coresReadNoClock() {
        ArchRule rule = noClasses()
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().dependOnClassesThat().resideInAnyPackage("java.time..")
                .because("time reaches a core only as tick() from its driver");
        rule.check(deterministic);
    }

    @Test
    void coresUseNoUnseededRandomness() {
        ArchRule rule = noClasses()
                .should().dependOnClassesThat().belongToAnyOf(Random.class, ThreadLocalRandom.class, SecureRandom.class,
                        java.util.SplittableRandom.class)
                .orShould().callMethod(Math.class, "random")
                .because("randomness reaches a core only as an injected, seeded RandomSource");
        rule.check(deterministic);
    }

    @Test
    void coresStartNoThreadsAndDoNoIo() {
        ArchRule rule = noClasses()
                .should().dependOnClassesThat().belongToAnyOf(Thread.class)
                .orShould().dependOnClassesThat().resideInAnyPackage(
                        "java.io..", "java.net..", "java.nio.file..", "java.nio.channels..", "java.util.concurrent..")
                .because("a core's effects are returned in a Ready for its driver to carry out");
        rule.check(deterministic);
    }
}
