using System.Diagnostics;
using System.Globalization;
using Bot.Core.Deliveries;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 9: <c>GET /api/announcements/{id}/deliveries.csv</c> of 100,000 deliveries (records seeded straight into
/// Redis in mixed states) through the built Bot.Webhook, read by a client that keeps no rows, while the webhook
/// process's resident memory is sampled every 10 ms. Flat memory means the 100,000-row export grows the process by
/// about as much as a 10,000-row one: rows are written as targets are read, a page at a time.
/// </summary>
public static class DeliveryExport
{
    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        if (world.Webhook.Url is null)
        {
            result.Notes.Add($"not measured: {world.Webhook.Problem}");
            return;
        }
        var total = world.Options.ExportDeliveries;
        var small = total / 10;
        await world.Redis.ResetAsync();
        await BenchWorld.SeedEmployeesAsync(world.Redis, total);
        var ids = Enumerable.Range(0, total).Select(BenchWorld.EmployeeId).ToArray();
        var later = DateTimeOffset.UtcNow.AddHours(1);
        var warmUp = await BenchWorld.CreateAnnouncementAsync(world.Redis, later, ids[..100]);
        var tenth = await BenchWorld.CreateAnnouncementAsync(world.Redis, later, ids[..small]);
        var all = await BenchWorld.CreateAnnouncementAsync(world.Redis, later, ids);
        foreach (var id in new[] { warmUp, tenth, all }) await SeedDeliveriesAsync(world.Redis.Db, id, ids[..(id == warmUp ? 100 : id == tenth ? small : total)]);
        result.Settings["deliveries"] = $"{total:N0} (and {small:N0} for comparison): sent, delivered, read, failed and unknown in turn, seeded into Redis";
        result.Settings["client"] = "HttpClient, ResponseHeadersRead, reads the body in 64 KiB chunks and counts lines; keeps nothing";
        result.Settings["webhook"] = "the built Bot.Webhook (Production, workstation GC as shipped), RSS from /proc/<pid>/status every 10 ms";

        using var client = new HttpClient { BaseAddress = new Uri(world.Webhook.Url), Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Add("X-Api-Key", BenchWorld.ApiKey);
        await ExportAsync(client, world.Webhook, warmUp); // JIT and connection, not measured
        var smallRun = await ExportAsync(client, world.Webhook, tenth);
        var run = await ExportAsync(client, world.Webhook, all);

        result.Add($"rows exported ({total:N0} deliveries)", run.Rows, "rows");
        result.Add("export time", run.Elapsed.TotalMilliseconds, "ms");
        result.Add("rows/s", run.Rows / run.Elapsed.TotalSeconds, "/s");
        result.Add("time to first byte", run.FirstByte.TotalMilliseconds, "ms");
        result.Add("CSV size", run.Bytes / 1024.0 / 1024.0, "MiB");
        result.Add("webhook RSS before", run.RssBefore / 1024.0 / 1024.0, "MiB");
        result.Add($"webhook RSS growth, peak during the {small:N0}-row export", (smallRun.RssPeak - smallRun.RssBefore) / 1024.0 / 1024.0, "MiB");
        result.Add($"webhook RSS growth, peak during the {total:N0}-row export", (run.RssPeak - run.RssBefore) / 1024.0 / 1024.0, "MiB");
        result.Add("webhook GC heap after its last collection (runtime metrics, /metrics)", run.HeapAfter / 1024.0 / 1024.0, "MiB");
        result.Require("every delivery exported once", run.Rows == total, $"{run.Rows} data rows for {total} deliveries");
        result.Require("the smaller export too", smallRun.Rows == small, $"{smallRun.Rows} data rows for {small} deliveries");
    }

    private sealed record Run(long Rows, long Bytes, TimeSpan Elapsed, TimeSpan FirstByte, long RssBefore, long RssPeak, double HeapAfter);

    private static async Task<Run> ExportAsync(HttpClient client, WebhookProcess webhook, string id)
    {
        var rssBefore = webhook.Rss();
        var peak = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, webhook.Rss());
                try { await Task.Delay(10, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync($"/api/announcements/{id}/deliveries.csv", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        long lines = 0, bytes = 0;
        TimeSpan? firstByte = null;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            firstByte ??= Stopwatch.GetElapsedTime(started);
            bytes += read;
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        await sampling.CancelAsync();
        await sampler;
        peak = Math.Max(peak, webhook.Rss());
        return new Run(lines - 1, bytes, elapsed, firstByte ?? elapsed, rssBefore, peak, await HeapAsync(client));
    }

    /// <summary>The host's GC heap size as its runtime metrics report it (bytes; NaN when the metric is not exported).</summary>
    private static async Task<double> HeapAsync(HttpClient client)
    {
        var text = await client.GetStringAsync("/metrics");
        var values = text.Split('\n')
            .Where(l => l.StartsWith("dotnet_gc_last_collection_heap_size_bytes", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
            .ToList();
        return values.Count == 0 ? double.NaN : values.Sum();
    }

    /// <summary>Writes delivery records as the dispatcher and the webhook would leave them, 1,000 per pipelined batch.</summary>
    private static async Task SeedDeliveriesAsync(IDatabase db, string announcementId, string[] employeeIds)
    {
        var now = DateTimeOffset.UtcNow;
        for (var start = 0; start < employeeIds.Length; start += 1000)
        {
            var batch = db.CreateBatch();
            var writes = new List<Task>();
            for (var i = start; i < Math.Min(start + 1000, employeeIds.Length); i++)
            {
                var record = (i % 5) switch
                {
                    0 => new DeliveryRecord(DeliveryState.Sent, now, $"wamid.{i:D52}"),
                    1 => new DeliveryRecord(DeliveryState.Delivered, now, $"wamid.{i:D52}"),
                    2 => new DeliveryRecord(DeliveryState.Read, now, $"wamid.{i:D52}"),
                    3 => new DeliveryRecord(DeliveryState.Failed, now, null, "131026"),
                    _ => new DeliveryRecord(DeliveryState.Unknown, now, null, "timeout"),
                };
                writes.Add(batch.StringSetAsync(RedisKeys.Delivery(announcementId, employeeIds[i]), record.ToString()));
            }
            batch.Execute();
            await Task.WhenAll(writes);
        }
    }
}
