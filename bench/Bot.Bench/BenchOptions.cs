namespace Bot.Bench;

/// <summary>Sizes of every scenario; <c>--quick</c> shrinks them so CI's smoke run takes well under a minute.</summary>
/// <param name="Peer">A peer under bench/peers to run side by side with the project's fan-out (<c>--peer bullmq</c>), or null.</param>
public sealed record BenchOptions(bool Quick, string Output, IReadOnlySet<int> Scenarios, bool WithAof, string? Peer = null, int? Rounds = null)
{
    public int FanOutEmployees => Quick ? 2_000 : 100_000;
    /// <summary>
    /// Deliveries each uncapped process (dispatcher, BullMQ peer) sends before it is timed: connections made and the tiered
    /// JIT done with the hot path. After 5,000 the dispatcher still compiled ≈ 4,400 methods during a timed 100,000, a
    /// quarter of its CPU; after 50,000, a few hundred.
    /// </summary>
    public int WarmUpDeliveries => Quick ? 50 : 50_000;

    /// <summary>The same where WhatsApp's cap paces the sends (1,000/s a number): what they measure is time, not CPU.</summary>
    public int CappedWarmUpDeliveries => Quick ? 50 : 5_000;
    public int RateCappedEmployees => Quick ? 2_000 : 20_000;
    public int RateCap => 1_000;
    public int ScheduledAnnouncements => Quick ? 10 : 200;
    public TimeSpan ScheduleWindow => Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(60);
    public int RecipientsPerScheduled => 10;
    public int SendNowSamples => Quick ? 3 : 20;
    public int WebhookSingles => Quick ? 300 : 30_000;
    public int WebhookBatches => Quick ? 5 : 300;
    public int WebhookBatchSize => 100;
    public int WebhookConcurrency => 16;
    public int WebhookMessagePosts => Quick ? 2 : 10;
    public TimeSpan StubPaced => Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(10);
    public int StubSends => Quick ? 5_000 : 100_000;
    public int ExportDeliveries => Quick ? 5_000 : 100_000;
    public int FairBigAnnouncements => 5;
    public int FairBigEmployees => Quick ? 1_000 : 20_000;
    public int FairSmallAnnouncements => Quick ? 10 : 50;
    // Quick: a lower cap so the small ones still land among thousands of queued sends, in 10 s per run.
    public int FairRateCap => Quick ? 500 : 1_000;
    public int PeerDeliveries => Quick ? 2_000 : 100_000;
    /// <summary>Project, peer, project, peer…: each durability setting this many times each, alternating.</summary>
    public int PeerRounds => Rounds ?? (Quick ? 1 : 2);
    public int CostDeliveries => Quick ? 2_000 : 100_000;
    public int EventsEmployees => Quick ? 1_000 : 20_000;
    /// <summary>Scenario 14: rounds of three fan-outs (without an endpoint, with one, with one and its worker stopped), alternating.</summary>
    public int EventsRounds => Rounds ?? 2;

    // 11: the senders spread over dispatcher replicas, on one Redis and on a three-master cluster.
    public int SpreadSenders => 8;
    public int SpreadEmployeesPerSender => Quick ? 250 : 12_500;
    public int[] SpreadReplicas => Quick ? [1, 2] : [1, 2, 4];

    // 15: end to end, the built hosts against BullMQ, every number at WhatsApp's cap.
    public int EndToEndSenders => Quick ? 2 : 8;
    public int EndToEndEmployeesPerSender => Quick ? 500 : 12_500;
    /// <summary>Project, BullMQ keeping completed jobs, BullMQ removing them, project…: this many times each, alternating.</summary>
    public int EndToEndRounds => Rounds ?? (Quick ? 1 : 2);

    public bool Runs(int scenario) => Scenarios.Contains(scenario);

    public static BenchOptions? Parse(string[] args)
    {
        var quick = false;
        var withAof = true;
        var output = "artifacts/bench/results.json";
        string? peer = null;
        int? rounds = null;
        IReadOnlySet<int>? scenarios = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--no-aof":
                    withAof = false;
                    break;
                case "--peer" when i + 1 < args.Length && args[i + 1] == "bullmq":
                    peer = args[++i];
                    break;
                case "--rounds" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n > 0:
                    rounds = n;
                    i++;
                    break;
                case "--out" when i + 1 < args.Length:
                    output = args[++i];
                    break;
                case "--only" when i + 1 < args.Length:
                    var picked = new HashSet<int>();
                    foreach (var part in args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!int.TryParse(part, out var n) || n is < 1 or > 15) return null;
                        picked.Add(n);
                    }
                    scenarios = picked;
                    break;
                default:
                    return null;
            }
        }
        // --peer alone runs only the side-by-side comparison.
        scenarios ??= peer is null ? new HashSet<int> { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 } : new HashSet<int>();
        if (quick && output == "artifacts/bench/results.json") output = "artifacts/bench/results-quick.json";
        // The AOF variant is a second 100k fan-out: worth it for the README, not for CI's smoke run.
        return new BenchOptions(quick, output, scenarios, withAof && !quick, peer, rounds);
    }
}
