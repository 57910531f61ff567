package dev.atoll.sim.check;

import static dev.atoll.sim.check.Timeline.cas;
import static dev.atoll.sim.check.Timeline.get;
import static dev.atoll.sim.check.Timeline.put;
import static org.assertj.core.api.Assertions.assertThat;

import dev.atoll.sim.check.Linearizability.Verdict;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Hand-written histories, each a scenario with one expected verdict. Clients are c1, c2, ... */
class LinearizabilityTest {
    private final Timeline t = new Timeline();

    @Nested
    class Reads {
        @Test
        void emptyHistoryIsLinearizable() {
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
            assertThat(t.check().opsChecked()).isZero();
        }

        @Test
        void sequentialWritesAndReadsAreLinearizable() {
            t.alone(1, get("x"), null)
                    .alone(1, put("x", "1"), null)
                    .alone(2, get("x"), "1")
                    .alone(2, put("x", "2"), null)
                    .alone(1, get("x"), "2");
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.LINEARIZABLE);
            assertThat(result.key()).isNull();
            assertThat(result.opsChecked()).isEqualTo(5);
        }

        @Test
        void readOfDeletedKeySeesAbsent() {
            t.alone(1, put("x", "1"), null).alone(1, put("x", null), null).alone(2, get("x"), null);
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void readConcurrentWithWriteSeesOldValue() {
            t.alone(1, put("x", "1"), null);
            int write = t.invoke(1, put("x", "2"));
            int read = t.invoke(2, get("x"));
            t.ok(read, "1").ok(write);
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void readConcurrentWithWriteSeesNewValue() {
            t.alone(1, put("x", "1"), null);
            int write = t.invoke(1, put("x", "2"));
            int read = t.invoke(2, get("x"));
            t.ok(read, "2").ok(write);
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void readAfterOverlappingWritesSeesEitherOne() {
            for (String seen : new String[] {"a", "b"}) {
                var timeline = new Timeline();
                int writeA = timeline.invoke(1, put("x", "a"));
                int writeB = timeline.invoke(2, put("x", "b"));
                timeline.ok(writeA).ok(writeB).alone(3, get("x"), seen);
                assertThat(timeline.check().verdict()).as("read sees %s", seen).isEqualTo(Verdict.LINEARIZABLE);
            }
        }

        @Test
        void readsAfterOverlappingWritesMustAgreeOnTheWinner() {
            int writeA = t.invoke(1, put("x", "a"));
            int writeB = t.invoke(2, put("x", "b"));
            t.ok(writeA).ok(writeB).alone(3, get("x"), "a").alone(4, get("x"), "b");
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.explanation()).contains("reads \"b\", but the register holds \"a\"");
        }

        @Test
        void readOfWriteInvokedAfterTheReadCompletedIsNotLinearizable() {
            t.alone(1, get("x"), "1").alone(2, put("x", "1"), null);
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.key()).isEqualTo("x");
            assertThat(result.explanation())
                    .contains("#0 c1 get x -> \"1\"")
                    .contains("the writes of that value failed or came later")
                    .contains("#1 c2 put x \"1\"");
        }

        @Test
        void staleReadAfterNewerWriteCompletedIsNotLinearizable() {
            t.alone(1, put("x", "1"), null).alone(1, put("x", "2"), null).alone(2, get("x"), "1");
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.explanation())
                    .contains("a stale read")
                    .contains("#2 c2 get x -> \"1\"")
                    .contains("#0 c1 put x \"1\"  [t=1..2 ok]\n    then #1 c1 put x \"2\"  [t=3..4 ok]");
        }

        @Test
        void staleReadBehindAConcurrentWriteIsFoundBySearch() {
            // c3 sees "2" while the put of "2" is still running; c4 then sees the older "1".
            t.alone(1, put("x", "1"), null);
            int write = t.invoke(2, put("x", "2"));
            t.alone(3, get("x"), "2").alone(4, get("x"), "1").ok(write);
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.explanation())
                    .contains("longest linearizable prefix: 3 operations, after which the register holds \"2\"")
                    .contains("#3 c4 get x -> \"1\"  [t=6..7 ok]  reads \"1\", but the register holds \"2\"");
        }

        @Test
        void readOfValueNobodyWroteIsNotLinearizable() {
            t.alone(1, put("x", "1"), null).alone(2, get("x"), "7");
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.explanation()).contains("nothing ever wrote that value");
        }
    }

    @Nested
    class FailedAndIndeterminateWrites {
        @Test
        void readSeesWriteThatLaterCompletedIndeterminate() {
            int write = t.invoke(1, put("x", "1"));
            t.alone(2, get("x"), "1").info(write);
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void readSeesIndeterminateWriteLongAfterItsInfo() {
            // The write's effect may land at any point after its invocation, even after the info.
            int write = t.invoke(1, put("x", "1"));
            t.info(write).alone(2, get("x"), null).alone(2, get("x"), "1");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void readSeesWriteThatNeverCompleted() {
            t.invoke(1, put("x", "1"));
            t.alone(2, get("x"), null).alone(2, get("x"), "1");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void indeterminateWriteThatNeverAppearsIsLinearizable() {
            t.alone(1, put("x", "1"), null);
            int lost = t.invoke(2, put("x", "2"));
            t.info(lost).alone(3, get("x"), "1").alone(3, get("x"), "1");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void readSeesWriteThatFailedIsNotLinearizable() {
            int write = t.invoke(1, put("x", "1"));
            t.fail(write).alone(2, get("x"), "1");
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.explanation()).contains("#0 c1 put x \"1\"  [t=1..2 fail]");
        }

        @Test
        void indeterminateWriteCannotBeSeenThenUnseen() {
            t.alone(1, put("x", "1"), null);
            int write = t.invoke(2, put("x", "2"));
            t.info(write).alone(3, get("x"), "2").alone(3, get("x"), "1");
            assertThat(t.check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }

        @Test
        void indeterminateGetConstrainsNothing() {
            int read = t.invoke(1, get("x"));
            t.info(read).alone(2, put("x", "1"), null);
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }
    }

    @Nested
    class CompareAndSet {
        @Test
        void sequentialCasChainIsLinearizable() {
            t.alone(1, cas("x", null, "1"), "true")
                    .alone(2, cas("x", "1", "2"), "true")
                    .alone(3, cas("x", "1", "3"), "false")
                    .alone(1, get("x"), "2");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void concurrentCasFromTheSameValueCannotBothSwap() {
            t.alone(1, put("x", "0"), null);
            int first = t.invoke(1, cas("x", "0", "1"));
            int second = t.invoke(2, cas("x", "0", "2"));
            t.ok(first, "true").ok(second, "true");
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.explanation()).contains("expects \"0\"");
        }

        @Test
        void concurrentCasOneSwapsTheOtherIsRefused() {
            t.alone(1, put("x", "0"), null);
            int first = t.invoke(1, cas("x", "0", "1"));
            int second = t.invoke(2, cas("x", "0", "2"));
            t.ok(second, "false").ok(first, "true").alone(3, get("x"), "1");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void indeterminateCasThatTookEffectContinuesTheChain() {
            t.alone(1, put("x", "0"), null);
            int maybe = t.invoke(1, cas("x", "0", "1"));
            int other = t.invoke(2, cas("x", "1", "2"));
            t.info(maybe).ok(other, "true").alone(3, get("x"), "2");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void indeterminateCasThatDidNotTakeEffectIsLinearizable() {
            t.alone(1, put("x", "0"), null);
            int maybe = t.invoke(1, cas("x", "0", "1"));
            t.info(maybe).alone(2, cas("x", "0", "2"), "true").alone(3, get("x"), "2");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void refusedCasWhileTheRegisterHeldItsExpectedValueIsNotLinearizable() {
            t.alone(1, put("x", "0"), null).alone(2, cas("x", "0", "1"), "false");
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.explanation()).contains("refused, but the register holds its expected \"0\"");
        }

        @Test
        void refusedCasIsExplainedByAnUnreadIndeterminateWrite() {
            // Nobody reads "9", yet the lost put of "9" must be kept: it explains the refusal.
            t.alone(1, put("x", "0"), null);
            int lost = t.invoke(2, put("x", "9"));
            t.info(lost).alone(3, cas("x", "0", "1"), "false");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void casExpectingAValueNobodyWroteCannotSwap() {
            t.alone(1, cas("x", "5", "6"), "true");
            assertThat(t.check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }
    }

    @Nested
    class KeysAndBudget {
        @Test
        void onlyTheBadKeyIsReported() {
            t.alone(1, put("good", "1"), null)
                    .alone(2, put("bad", "1"), null)
                    .alone(2, put("bad", "2"), null)
                    .alone(1, get("good"), "1")
                    .alone(3, get("bad"), "1")
                    .alone(3, get("good"), "1");
            var result = t.check();
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.key()).isEqualTo("bad");
            assertThat(result.explanation()).startsWith("key bad is not linearizable");
        }

        @Test
        void keysAreIndependentRegisters() {
            // Across keys, c2 sees x's write but not y's older one: fine per key (no multi-key order).
            t.alone(1, put("y", "1"), null).alone(1, put("x", "1"), null)
                    .alone(2, get("x"), "1").alone(2, get("y"), "1");
            assertThat(t.check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void pathologicalHistoryExhaustsTheBudget() {
            concurrentPutsThenContradictoryReads(t, "x", 20);
            var result = Linearizability.check(t.history(), 100_000);
            assertThat(result.verdict()).isEqualTo(Verdict.UNKNOWN);
            assertThat(result.key()).isEqualTo("x");
            assertThat(result.explanation()).contains("budget of 100000 steps");
        }

        @Test
        void aViolationOnAnotherKeyBeatsAnUnknownKey() {
            concurrentPutsThenContradictoryReads(t, "hard", 20);
            t.alone(31, put("easy", "1"), null).alone(31, put("easy", "2"), null).alone(32, get("easy"), "1");
            var result = Linearizability.check(t.history(), 10_000);
            assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.key()).isEqualTo("easy");
        }

        /**
         * {@code writers} concurrent puts of distinct values, each seen by a concurrent get, then
         * reads of v0 and v1 in sequence: no write can come between them, but proving it means
         * trying every order of the puts.
         */
        private static void concurrentPutsThenContradictoryReads(Timeline t, String key, int writers) {
            int[] ops = new int[2 * writers];
            for (int i = 0; i < writers; i++) {
                ops[i] = t.invoke(i, put(key, "v" + i));
                ops[writers + i] = t.invoke(writers + i, get(key));
            }
            for (int i = 0; i < writers; i++) {
                t.ok(ops[i]).ok(ops[writers + i], "v" + i);
            }
            t.alone(100, get(key), "v0").alone(100, get(key), "v1");
        }
    }
}
