package dev.atoll.proto;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.atoll.proto.etcd.EtcdRpcProto;
import io.etcd.jetcd.api.JetcdProto;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Compares our etcd API definitions with the ones jetcd's generated classes were built from:
 * every service method, message field and enum value jetcd knows must exist here with the same
 * number, wire type, cardinality and message/enum type. jetcd's files are older than etcd 3.6,
 * so fields we have and it lacks are expected; the reverse is a bug in our .proto files.
 */
class EtcdDescriptorCompatibilityTest {
    /** RPCs in jetcd's files that etcd itself does not serve (jetcd-only additions). */
    private static final Set<String> NOT_IN_ETCD = Set.of("etcdserverpb.Watch.Progress");

    @Test
    void everyMethodFieldAndEnumValueJetcdKnowsHasTheSameWireShapeHere() {
        Map<String, FileDescriptor> theirs = files(JetcdProto.getDescriptor());
        Map<String, FileDescriptor> ours = files(EtcdRpcProto.getDescriptor());
        var mismatches = new ArrayList<String>();
        var oursByName = index(ours.values());
        var theirsByName = index(theirs.values());

        for (FileDescriptor file : theirs.values()) {
            if (!Set.of("etcdserverpb", "mvccpb", "authpb").contains(file.getPackage())) {
                continue;
            }
            for (ServiceDescriptor service : file.getServices()) {
                for (MethodDescriptor method : service.getMethods()) {
                    if (NOT_IN_ETCD.contains(method.getFullName())) {
                        continue;
                    }
                    compareMethod(method, oursByName, mismatches);
                }
            }
            for (Descriptor message : file.getMessageTypes()) {
                compareMessage(message, oursByName, mismatches);
            }
            for (EnumDescriptor e : file.getEnumTypes()) {
                compareEnum(e, oursByName, mismatches);
            }
        }
        assertThat(mismatches).as("wire differences from jetcd's etcd API").isEmpty();
        // the comparison covered the whole API, not a few files that happened to load
        assertThat(theirsByName.services.keySet()).contains("etcdserverpb.KV", "etcdserverpb.Watch",
                "etcdserverpb.Lease", "etcdserverpb.Cluster", "etcdserverpb.Maintenance", "etcdserverpb.Auth");
        assertThat(theirsByName.messages).containsKeys("mvccpb.KeyValue", "authpb.Role", "etcdserverpb.WatchCreateRequest");
        assertThat(theirsByName.messages.size()).isGreaterThan(80);
    }

    @Test
    void protoPackagesAndServicePathsAreEtcds() {
        assertThat(dev.atoll.proto.etcd.KVGrpc.getRangeMethod().getFullMethodName()).isEqualTo("etcdserverpb.KV/Range");
        assertThat(dev.atoll.proto.etcd.WatchGrpc.getWatchMethod().getFullMethodName()).isEqualTo("etcdserverpb.Watch/Watch");
        assertThat(dev.atoll.proto.etcd.LeaseGrpc.getLeaseLeasesMethod().getFullMethodName())
                .isEqualTo("etcdserverpb.Lease/LeaseLeases");
        assertThat(dev.atoll.proto.etcd.mvcc.KeyValue.getDescriptor().getFullName()).isEqualTo("mvccpb.KeyValue");
        assertThat(dev.atoll.proto.etcd.auth.Permission.getDescriptor().getFullName()).isEqualTo("authpb.Permission");
    }

    private static void compareMethod(MethodDescriptor theirs, Index ours, List<String> mismatches) {
        ServiceDescriptor service = ours.services.get(theirs.getService().getFullName());
        MethodDescriptor mine = service == null ? null : service.findMethodByName(theirs.getName());
        if (mine == null) {
            mismatches.add("missing rpc " + theirs.getFullName());
            return;
        }
        if (!mine.getInputType().getFullName().equals(theirs.getInputType().getFullName())
                || !mine.getOutputType().getFullName().equals(theirs.getOutputType().getFullName())
                || mine.isClientStreaming() != theirs.isClientStreaming()
                || mine.isServerStreaming() != theirs.isServerStreaming()) {
            mismatches.add("rpc " + theirs.getFullName() + " differs in types or streaming");
        }
    }

    private static void compareMessage(Descriptor theirs, Index ours, List<String> mismatches) {
        Descriptor mine = ours.messages.get(theirs.getFullName());
        if (mine == null) {
            mismatches.add("missing message " + theirs.getFullName());
            return;
        }
        for (FieldDescriptor field : theirs.getFields()) {
            FieldDescriptor match = mine.findFieldByNumber(field.getNumber());
            String where = theirs.getFullName() + "." + field.getName() + " = " + field.getNumber();
            if (match == null) {
                mismatches.add("missing field " + where);
            } else if (match.getType() != field.getType() || match.isRepeated() != field.isRepeated()) {
                mismatches.add("field " + where + " is " + match.getType() + (match.isRepeated() ? " repeated" : "")
                        + " here, " + field.getType() + (field.isRepeated() ? " repeated" : "") + " in jetcd");
            } else if (!typeName(match).equals(typeName(field))) {
                mismatches.add("field " + where + " has type " + typeName(match) + " here, " + typeName(field));
            } else if (!match.getName().equals(field.getName())) {
                mismatches.add("field " + where + " is named " + match.getName() + " here (JSON names differ)");
            }
        }
        for (Descriptor nested : theirs.getNestedTypes()) {
            compareMessage(nested, ours, mismatches);
        }
        for (EnumDescriptor e : theirs.getEnumTypes()) {
            compareEnum(e, ours, mismatches);
        }
    }

    private static void compareEnum(EnumDescriptor theirs, Index ours, List<String> mismatches) {
        EnumDescriptor mine = ours.enums.get(theirs.getFullName());
        if (mine == null) {
            mismatches.add("missing enum " + theirs.getFullName());
            return;
        }
        for (EnumValueDescriptor value : theirs.getValues()) {
            EnumValueDescriptor match = mine.findValueByNumber(value.getNumber());
            if (match == null || !match.getName().equals(value.getName())) {
                mismatches.add("enum value " + theirs.getFullName() + "." + value.getName() + " = " + value.getNumber()
                        + " is " + (match == null ? "missing" : match.getName()) + " here");
            }
        }
    }

    private static String typeName(FieldDescriptor field) {
        return switch (field.getJavaType()) {
            case MESSAGE -> field.getMessageType().getFullName();
            case ENUM -> field.getEnumType().getFullName();
            default -> field.getType().name();
        };
    }

    /** A file and everything it imports, by file name. */
    private static Map<String, FileDescriptor> files(FileDescriptor root) {
        var all = new LinkedHashMap<String, FileDescriptor>();
        var pending = new ArrayList<>(List.of(root));
        while (!pending.isEmpty()) {
            FileDescriptor file = pending.removeLast();
            if (all.putIfAbsent(file.getName(), file) == null) {
                pending.addAll(file.getDependencies());
            }
        }
        return all;
    }

    private record Index(Map<String, Descriptor> messages, Map<String, EnumDescriptor> enums,
                         Map<String, ServiceDescriptor> services) {
    }

    private static Index index(Iterable<FileDescriptor> files) {
        var index = new Index(new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashMap<>());
        for (FileDescriptor file : files) {
            file.getServices().forEach(s -> index.services.put(s.getFullName(), s));
            file.getEnumTypes().forEach(e -> index.enums.put(e.getFullName(), e));
            file.getMessageTypes().forEach(m -> indexMessage(m, index));
        }
        return index;
    }

    private static void indexMessage(Descriptor message, Index index) {
        index.messages.put(message.getFullName(), message);
        message.getEnumTypes().forEach(e -> index.enums.put(e.getFullName(), e));
        message.getNestedTypes().forEach(n -> indexMessage(n, index));
    }
}
