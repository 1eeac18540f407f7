using System.Collections.Concurrent;
using Bot.Core.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Core.Replication;

/// <summary>
/// Holds a send back until replicas have its delivery claim. Redis replicates asynchronously: a primary that dies
/// takes with it the claims its replicas never got, the replica promoted in its place lets the same delivery be
/// claimed again, and the message goes twice. <c>WAIT</c> on the node that took the claim closes that window.
/// </summary>
/// <remarks>
/// WAIT covers every write the connection made before it, and SE.Redis sends all of a process's commands to one node
/// over one connection: so one WAIT per node covers every claim that node answered before it. Claims arriving within
/// <see cref="GatherWindow"/> share one (a fan-out claims up to MaxConcurrentSends at once), and while it blocks the
/// connection the next claims gather behind it. In <c>auto</c> the number of replicas comes from the primary's
/// <c>ROLE</c> (the replicas connected to it, as INFO replication's connected_slaves counts them); once a primary was
/// seen with a replica it stays required for that primary, because a replica whose link is down is exactly the one a
/// failover would promote without the latest claims.
/// </remarks>
public sealed partial class ClaimReplication(
    IConnectionMultiplexer redis, RedisKeyspace keyspace, IOptions<ClaimReplicationOptions> options, TimeProvider time,
    ILogger<ClaimReplication> logger)
{
    // Wall-clock, not the injected clock: it only gathers claims made at the same moment, it promises nothing.
    private static readonly TimeSpan GatherWindow = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan ReplicasRefresh = TimeSpan.FromSeconds(1);

    private readonly ClaimReplicationOptions options = options.Value;
    private readonly TimeProvider time = time;
    private readonly int? fixedReplicas = options.Value.FixedReplicas;
    private readonly ConcurrentDictionary<System.Net.EndPoint, Node> nodes = new();

    /// <summary>How long the sender pauses when a claim was not acknowledged.</summary>
    public TimeSpan Pause => options.ClaimReplicaPause;

    /// <summary>
    /// Waits until the replicas required of the node holding <paramref name="key"/> acknowledged the claim just
    /// written there. Null when they did (or none is required); otherwise why not, naming the replica, for the
    /// sender's pause: the caller gives the claim back and does not send.
    /// </summary>
    /// <param name="key">The claimed delivery key, as the stores name it (before <c>Redis:KeyPrefix</c>).</param>
    public async Task<string?> UnacknowledgedAsync(RedisKey key)
    {
        if (fixedReplicas == 0) return null;
        var server = redis.GetServer((RedisKey)keyspace.Name(key!));
        var node = nodes.GetOrAdd(server.EndPoint, endpoint => new Node(this, endpoint.ToString() ?? "?"));
        int required;
        if (fixedReplicas is { } n) required = n;
        else if (await node.AutoReplicasAsync(server) is { } auto) required = auto;
        else return node.Reason(0, 1, "its replicas could not be read (ROLE)");
        if (required == 0) return null;
        var acknowledged = await node.WaitAsync(server, required);
        return acknowledged >= required ? null : node.Reason(acknowledged, required, null);
    }

    /// <summary>What <c>auto</c> resolves to for the primary of <paramref name="key"/> now (tests, diagnostics).</summary>
    public async Task<int?> RequiredReplicasAsync(RedisKey key)
    {
        if (fixedReplicas is { } n) return n;
        var server = redis.GetServer((RedisKey)keyspace.Name(key!));
        return await nodes.GetOrAdd(server.EndPoint, endpoint => new Node(this, endpoint.ToString() ?? "?")).AutoReplicasAsync(server);
    }

    /// <summary>One primary: what auto resolved to there, and the WAIT its claims gather for.</summary>
    private sealed class Node(ClaimReplication owner, string endpoint)
    {
        private readonly Lock gate = new();
        private int? auto;
        private string replicas = "";
        private DateTimeOffset checkedAt = DateTimeOffset.MinValue;
        private Task? refreshing;
        private Batch? open;
        private bool failing;
        private bool infoRefused;

        public async Task<int?> AutoReplicasAsync(IServer server)
        {
            Task? running;
            lock (gate)
            {
                // Started off this lock: the refresh takes it again when it ends, and must find itself recorded.
                if (refreshing is null && owner.time.GetUtcNow() - checkedAt >= ReplicasRefresh) refreshing = Task.Run(() => RefreshAsync(server));
                running = refreshing;
            }
            // ROLE is one short round trip a second: claims wait for it rather than act on an old answer.
            if (running is not null) await running;
            lock (gate) return auto;
        }

        public string Reason(long acknowledged, int required, string? why)
        {
            string known;
            lock (gate) known = replicas;
            var replica = known.Length > 0 ? $"Redis replica {known} of {endpoint}" : $"Redis replica of {endpoint}";
            return why is not null
                ? $"{replica}: {why}; delivery claims are given back until it answers"
                : $"{replica} did not acknowledge delivery claims within {owner.options.ClaimReplicaTimeout.TotalMilliseconds:0} ms ({acknowledged} of {required} replicas)";
        }

        public Task<long> WaitAsync(IServer server, int required)
        {
            lock (gate)
            {
                if (open is null || open.Required != required)
                {
                    open = new Batch(required);
                    _ = FlushAsync(open, server);
                }
                return open.Done.Task;
            }
        }

        private async Task FlushAsync(Batch batch, IServer server)
        {
            await Task.Delay(GatherWindow);
            lock (gate)
            {
                if (open == batch) open = null;
            }
            long acknowledged;
            try
            {
                var timeout = (long)owner.options.ClaimReplicaTimeout.TotalMilliseconds;
                acknowledged = (long)await server.ExecuteAsync("WAIT", [batch.Required, timeout]);
            }
            catch (Exception ex) when (ex is RedisException or RedisCommandException)
            {
                // The node went away (or is a replica now): nothing says the claims reached a replica.
                acknowledged = -1;
            }
            Report(acknowledged, batch.Required);
            batch.Done.TrySetResult(Math.Max(0, acknowledged));
        }

        private void Report(long acknowledged, int required)
        {
            bool changed;
            lock (gate)
            {
                changed = failing != acknowledged < required;
                failing = acknowledged < required;
            }
            if (!changed) return;
            if (failing) owner.LogUnacknowledged(endpoint, Math.Max(0, acknowledged), required, owner.options.ClaimReplicaTimeout);
            else owner.LogAcknowledged(endpoint, required);
        }

        private async Task RefreshAsync(IServer server)
        {
            try
            {
                // ROLE rather than INFO replication: the same list of connected replicas, and StackExchange.Redis lets
                // INFO through only in admin mode, which the shared connection has no business enabling.
                var role = await server.RoleAsync();
                var isPrimary = role is Role.Master;
                var connected = role is Role.Master primary ? primary.Replicas.Count : 0;
                var names = role is Role.Master listed ? string.Join(", ", listed.Replicas.Select(r => $"{r.Ip}:{r.Port}")) : "";
                int? before, after;
                lock (gate)
                {
                    before = auto;
                    // Never lowered while this node is primary: a replica that dropped its link is the one that
                    // lacks the latest claims. A node seen as a replica starts afresh if it is promoted.
                    auto = isPrimary ? Math.Max(auto ?? 0, Math.Min(connected, 1)) : Math.Min(connected, 1);
                    if (names.Length > 0) replicas = names;
                    after = auto;
                }
                if (before != after && (after > 0 || before > 0)) owner.LogAuto(endpoint, after ?? 0, connected);
            }
            catch (Exception ex) when (ex is RedisServerException or RedisCommandException)
            {
                // ROLE refused (an ACL, a managed service): auto cannot tell, so it asks for nothing and says so once.
                bool first;
                lock (gate)
                {
                    first = !infoRefused;
                    infoRefused = true;
                    auto ??= 0;
                }
                if (first) owner.LogInfoRefused(endpoint, ex.Message);
            }
            catch (Exception ex) when (ex is RedisException)
            {
                // Unreachable for now: the last answer stands, and the first claim there is not acknowledged.
            }
            finally
            {
                lock (gate)
                {
                    checkedAt = owner.time.GetUtcNow();
                    refreshing = null;
                }
            }
        }
    }

    private sealed class Batch(int required)
    {
        public int Required => required;
        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(LogLevel.Information, "Redis {Endpoint} has {Connected} connected replica(s): a delivery is sent once {Required} replica(s) acknowledged its claim")]
    private partial void LogAuto(string endpoint, int required, int connected);

    [LoggerMessage(LogLevel.Warning, "Redis {Endpoint}: {Acknowledged} of {Required} replica(s) acknowledged delivery claims within {Timeout}; the claims are given back and the sender pauses until they do")]
    private partial void LogUnacknowledged(string endpoint, long acknowledged, int required, TimeSpan timeout);

    [LoggerMessage(LogLevel.Information, "Redis {Endpoint}: {Required} replica(s) acknowledge delivery claims again")]
    private partial void LogAcknowledged(string endpoint, int required);

    [LoggerMessage(LogLevel.Warning, "Redis {Endpoint} refused ROLE ({Reason}): Redis:ClaimReplicas=auto cannot see its replicas and waits for none; set Redis:ClaimReplicas to the number of replicas")]
    private partial void LogInfoRefused(string endpoint, string reason);
}
