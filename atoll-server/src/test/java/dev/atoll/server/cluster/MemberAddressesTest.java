package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The transport's address book follows the member table. */
class MemberAddressesTest {
    private final List<String> events = new ArrayList<>();
    private final MemberAddresses.Listener listener = new MemberAddresses.Listener() {
        @Override
        public void added(NodeId node, String target) {
            events.add("+" + node + "@" + target);
        }

        @Override
        public void removed(NodeId node) {
            events.add("-" + node);
        }
    };

    private static MemberTable table() {
        return ReconfigChecksTest.founders("n1", "n2", "n3");
    }

    @Test
    void theFoundingListStandsInUntilTheTableIsSeeded() {
        var book = new MemberAddresses(NodeId.of("n1"), Map.of(NodeId.of("n2"), "h2:2", NodeId.of("n3"), "h3:3"), listener);
        book.sync(MemberTable.EMPTY, Set.of());
        assertThat(events).containsExactlyInAnyOrder("+n2@h2:2", "+n3@h3:3");
        events.clear();
        book.sync(table(), Set.of());
        // the table's URLs replace the stand-ins; nothing is dialled twice at the same address
        assertThat(events).containsExactlyInAnyOrder("+n2@127.0.0.1:2381", "+n3@127.0.0.1:2382");
        events.clear();
        book.sync(table(), Set.of());
        assertThat(events).isEmpty();
        assertThat(book.address(NodeId.of("n3")).orElseThrow().getPort()).isEqualTo(2382);
    }

    @Test
    void aStartedMemberIsDialledAtItsNewUrlsAndARemovedOneForgottenOnceNoGroupHoldsIt() {
        var book = new MemberAddresses(NodeId.of("n1"), Map.of(), listener);
        MemberTable t = table();
        t = ((MemberTable.Changed) t.add(new Member(5, "", List.of("http://127.0.0.1:2390"), List.of(), true, false)))
                .table();
        book.sync(t, Set.of());
        assertThat(events).as("an unstarted member has no node id to dial").hasSize(2);
        events.clear();
        t = ((MemberTable.Changed) t.publish("n4", List.of("http://127.0.0.1:2390"), List.of(), NodeLabels.DEFAULT)).table();
        book.sync(t, Set.of());
        assertThat(events).containsExactly("+n4@127.0.0.1:2390");
        events.clear();
        t = ((MemberTable.Changed) t.update(5, List.of("http://127.0.0.1:2391"))).table();
        book.sync(t, Set.of());
        assertThat(events).containsExactly("+n4@127.0.0.1:2391");
        events.clear();
        t = ((MemberTable.Changed) t.remove(5)).table();
        book.sync(t, Set.of(NodeId.of("n4")));
        assertThat(events).as("still in a local group: the leader may need to reach it").isEmpty();
        book.sync(t, Set.of());
        assertThat(events).containsExactly("-n4");
        assertThat(book.address(NodeId.of("n4"))).isEmpty();
    }
}
