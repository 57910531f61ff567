package dev.atoll.server.etcd;

import dev.atoll.server.cluster.MemberChanges;
import dev.atoll.server.runtime.NodeRuntime;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The etcd v3 API of one node, assembled: KV, Watch, Lease, Cluster and Maintenance services on
 * the {@code default} group (a learner serves only what etcd's learners serve), the leader's
 * lease clock and the watch progress timer. The server binds {@link #services()} on its gRPC
 * server, calls {@link #start()} once the runtime runs, and {@link #close()} before closing the
 * runtime.
 */
public final class EtcdApi implements AutoCloseable {
    private final EtcdGroup group;
    private final ScheduledExecutorService scheduler;
    private final LeaseExpiry leaseExpiry;
    private final List<ServerServiceDefinition> services;
    /** How often requests past their timeout are failed: how late a timeout may fire. */
    static final long DEADLINE_SWEEP_MILLIS = 50;

    /**
     * A bounded pool for the API's continuations and watch delivery (pass the same one to
     * {@link EtcdStateMachine}); a full queue answers "etcdserver: too many requests".
     */
    public static ThreadPoolExecutor newExecutor(int threads, int tasksQueuedMax) {
        var counter = new AtomicInteger();
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(tasksQueuedMax),
                r -> Thread.ofPlatform().name("etcd-api-" + counter.incrementAndGet()).daemon().unstarted(r));
    }

    public EtcdApi(NodeRuntime runtime, long groupId, EtcdStateMachine stateMachine, EtcdOptions options,
                   EtcdMembers members, LeaderChannels leaderChannels, ExecutorService executor) {
        this(runtime, groupId, stateMachine, options, members, leaderChannels, executor, null);
    }

    /**
     * The API with etcd's membership operations carried out by {@code changes} (null: a node
     * without a meta group, where they answer UNIMPLEMENTED).
     */
    public EtcdApi(NodeRuntime runtime, long groupId, EtcdStateMachine stateMachine, EtcdOptions options,
                   EtcdMembers members, LeaderChannels leaderChannels, ExecutorService executor,
                   MemberChanges changes) {
        this.group = new EtcdGroup(runtime, groupId, stateMachine, options, members, leaderChannels, executor);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("etcd-timers").daemon().unstarted(r));
        this.leaseExpiry = new LeaseExpiry(group, scheduler, System::nanoTime);
        var marker = EtcdGroup.forwardingMarker();
        var learnerGate = new LearnerGate(group);
        this.services = List.of(
                ServerInterceptors.intercept(new KvService(group), marker, learnerGate),
                ServerInterceptors.intercept(new WatchService(group), marker, learnerGate),
                ServerInterceptors.intercept(new LeaseService(group, leaseExpiry), marker, learnerGate),
                ServerInterceptors.intercept(new ClusterService(group, changes), marker, learnerGate),
                ServerInterceptors.intercept(new MaintenanceService(group, changes), marker, learnerGate));
    }

    public EtcdGroup group() {
        return group;
    }

    /** Every etcd service, each with the forwarding-marker interceptor. */
    public List<ServerServiceDefinition> services() {
        return services;
    }

    public void start() {
        leaseExpiry.start();
        scheduler.scheduleWithFixedDelay(group.deadlines()::sweep, DEADLINE_SWEEP_MILLIS, DEADLINE_SWEEP_MILLIS,
                TimeUnit.MILLISECONDS);
        long progressEvery = group.options().watchProgressIntervalMillis();
        scheduler.scheduleWithFixedDelay(() -> group.stateMachine().watchHub().notifyProgress(), progressEvery,
                progressEvery, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        leaseExpiry.close();
        scheduler.shutdownNow();
    }
}
