package dev.atoll.sim.check;

import dev.atoll.sim.check.History.Operation;
import dev.atoll.sim.check.History.Outcome;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The definition, by enumeration, for tiny single-key histories: some order of the completed
 * operations plus any subset of the indeterminate ones respects real time and the register.
 * None of the checker's reductions or pre-passes: an independent oracle for tests.
 */
final class BruteForceLinearizability {
    private BruteForceLinearizability() {
    }

    static boolean isLinearizable(History history) {
        List<Operation> operations = history.operations().stream()
                .filter(operation -> operation.outcome() != Outcome.FAIL)
                .toList();
        return extend(operations, new boolean[operations.size()], new HashMap<>());
    }

    private static boolean extend(List<Operation> operations, boolean[] done, Map<String, String> register) {
        boolean allCompletedDone = true;
        for (int i = 0; i < operations.size(); i++) {
            allCompletedDone &= done[i] || operations.get(i).outcome().isIndeterminate();
        }
        if (allCompletedDone) {
            return true;
        }
        for (int i = 0; i < operations.size(); i++) {
            if (done[i] || !isMinimal(operations, done, i)) {
                continue;
            }
            Operation operation = operations.get(i);
            Map<String, String> after = step(operation, register);
            if (after != null) {
                done[i] = true;
                boolean found = extend(operations, done, after);
                done[i] = false;
                if (found) {
                    return true;
                }
            }
        }
        return false;
    }

    /** No operation still to place completed before this one was invoked. */
    private static boolean isMinimal(List<Operation> operations, boolean[] done, int candidate) {
        for (int j = 0; j < operations.size(); j++) {
            if (!done[j] && operations.get(j).precedes(operations.get(candidate))) {
                return false;
            }
        }
        return true;
    }

    /** The register after the operation, or null if its recorded result is impossible here. */
    private static Map<String, String> step(Operation operation, Map<String, String> register) {
        var after = new HashMap<>(register);
        String current = register.get(operation.op().key());
        boolean completed = operation.outcome() == Outcome.OK;
        switch (operation.op()) {
            case Op.Put put -> after.put(put.key(), put.value());
            case Op.Get get -> {
                if (completed && !Objects.equals(current, operation.result())) {
                    return null;
                }
            }
            case Op.Cas cas -> {
                boolean swaps = Objects.equals(current, cas.expected());
                if (completed && swaps != "true".equals(operation.result())) {
                    return null;
                }
                if (swaps) {
                    after.put(cas.key(), cas.value());
                }
            }
        }
        return after;
    }
}
