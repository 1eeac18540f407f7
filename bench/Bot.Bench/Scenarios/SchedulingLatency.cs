using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Bot.Core;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 3: announcements due over a window, each to a few employees: due → first send at WhatsApp; then "send
/// now" through the API (Bot.Webhook) → first send.
/// </summary>
public static class SchedulingLatency
{
    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        var count = world.Options.ScheduledAnnouncements;
        var per = world.Options.RecipientsPerScheduled;
        var sendNow = world.Webhook.Url is null ? 0 : world.Options.SendNowSamples;
        // Two extra groups of employees for the untimed warm-ups (dispatcher, then the API).
        var employees = (count + sendNow + 2) * per;
        await world.Redis.ResetAsync();
        await BenchWorld.SeedEmployeesAsync(world.Redis, employees);
        world.WhatsApp.Reset(employees);
        result.Settings["announcements"] = $"{count} × {per} employees, due uniformly over {world.Options.ScheduleWindow.TotalSeconds:N0} s (seed 42)";
        result.Settings["dispatcher"] = $"1 process, defaults (PollInterval 1 s, RedLock on), WhatsApp:MessagesPerSecond={world.Options.RateCap}";

        var processes = await world.StartDispatchersAsync(world.Redis, 1, world.Options.RateCap);
        try
        {
            // A fresh process's first announcement pays for JIT, the first HTTP connection and Refit's set-up; that is
            // reported on its own, and the scheduled ones measure a dispatcher that has sent before.
            var warmUpIds = Enumerable.Range((count + sendNow) * per, per).Select(BenchWorld.EmployeeId).ToList();
            var warmUpAt = DateTime.UtcNow.Ticks;
            var warmUp = await BenchWorld.CreateAnnouncementAsync(world.Redis, sendAt: null, warmUpIds);
            var coldUntil = DateTime.UtcNow.AddSeconds(30);
            while (world.WhatsApp.FirstSendOf(warmUp) is null && DateTime.UtcNow < coldUntil) await Task.Delay(1);
            if (world.WhatsApp.FirstSendOf(warmUp) is { } coldFirst)
                result.Add("first announcement after dispatcher start (cold)", TimeSpan.FromTicks(coldFirst - warmUpAt).TotalMilliseconds, "ms");

            var random = new Random(42);
            var start = DateTimeOffset.UtcNow.AddSeconds(5);
            var scheduled = new List<(string Id, DateTimeOffset DueAt)>();
            for (var a = 0; a < count; a++)
            {
                var dueAt = Clock.FromUnixMs((start + world.Options.ScheduleWindow * random.NextDouble()).ToUnixMs());
                var ids = Enumerable.Range(a * per, per).Select(BenchWorld.EmployeeId).ToList();
                scheduled.Add((await BenchWorld.CreateAnnouncementAsync(world.Redis, dueAt, ids), dueAt));
            }
            var createdBy = DateTimeOffset.UtcNow;
            if (createdBy > scheduled.Min(x => x.DueAt))
                result.Notes.Add($"creating the announcements took until {(createdBy - start).TotalSeconds:N2} s after the window opened: the earliest were created late");
            var deadline = start + world.Options.ScheduleWindow + TimeSpan.FromSeconds(30);
            while (scheduled.Any(s => world.WhatsApp.FirstSendOf(s.Id) is null) && DateTimeOffset.UtcNow < deadline) await Task.Delay(50);
            var latencies = scheduled.Select(s => world.WhatsApp.FirstSendOf(s.Id) is { } first
                ? TimeSpan.FromTicks(first - s.DueAt.UtcTicks).TotalMilliseconds : double.PositiveInfinity).Order().ToArray();
            result.Add("due → first send p50", Stats.Percentile(latencies, 0.50), "ms");
            result.Add("due → first send p99", Stats.Percentile(latencies, 0.99), "ms", "≤ 250 ms", Stats.Percentile(latencies, 0.99) <= 250);
            result.Add("due → first send max", latencies[^1], "ms");
            foreach (var slow in scheduled.Select(s => (s.DueAt, Ms: world.WhatsApp.FirstSendOf(s.Id) is { } f ? TimeSpan.FromTicks(f - s.DueAt.UtcTicks).TotalMilliseconds : double.PositiveInfinity))
                         .OrderByDescending(x => x.Ms).Take(3))
            {
                var near = scheduled.Count(o => Math.Abs((o.DueAt - slow.DueAt).TotalMilliseconds) <= 250) - 1;
                result.Notes.Add($"slow: {slow.Ms:N0} ms late, due at +{(slow.DueAt - start).TotalSeconds:N2} s, {near} other(s) due within ±250 ms");
            }

            if (world.Webhook.Url is null)
            {
                result.Notes.Add($"'send now' through the API not measured: {world.Webhook.Problem}");
            }
            else
            {
                using var api = new HttpClient { BaseAddress = new Uri(world.Webhook.Url) };
                api.DefaultRequestHeaders.Add("X-Api-Key", BenchWorld.ApiKey);
                var sendNowLatencies = new List<double>();
                var postLatencies = new List<double>();
                // Untimed: the API's first request pays for its own JIT.
                var apiWarmUpIds = Enumerable.Range((count + sendNow + 1) * per, per).Select(BenchWorld.EmployeeId).ToList();
                using (var first = await api.PostAsJsonAsync("/api/announcements", new { message = BenchWorld.Message, employeeIds = apiWarmUpIds }))
                {
                    first.EnsureSuccessStatusCode();
                    var id = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                    var until = DateTime.UtcNow.AddSeconds(10);
                    while (world.WhatsApp.FirstSendOf(id) is null && DateTime.UtcNow < until) await Task.Delay(1);
                }
                for (var s = 0; s < sendNow; s++)
                {
                    var ids = Enumerable.Range((count + s) * per, per).Select(BenchWorld.EmployeeId).ToList();
                    var posted = DateTime.UtcNow.Ticks;
                    var clock = Stopwatch.StartNew();
                    using var response = await api.PostAsJsonAsync("/api/announcements", new { message = BenchWorld.Message, employeeIds = ids });
                    postLatencies.Add(clock.Elapsed.TotalMilliseconds);
                    response.EnsureSuccessStatusCode();
                    var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                    var until = DateTime.UtcNow.AddSeconds(10);
                    long? first;
                    while ((first = world.WhatsApp.FirstSendOf(id)) is null && DateTime.UtcNow < until) await Task.Delay(1);
                    sendNowLatencies.Add(first is { } f ? TimeSpan.FromTicks(f - posted).TotalMilliseconds : double.PositiveInfinity);
                    await Task.Delay(200);
                }
                var sorted = sendNowLatencies.Order().ToArray();
                result.Add("'send now' POST → first send p50", Stats.Percentile(sorted, 0.50), "ms");
                result.Add("'send now' POST → first send max", sorted[^1], "ms");
                result.Add("'send now' POST answered (p50)", Stats.Percentile([.. postLatencies.Order()], 0.50), "ms");
                result.Settings["send now"] = $"{sendNow} POST /api/announcements to Bot.Webhook ({per} employees each), one after another";
            }

            var all = DateTime.UtcNow.AddSeconds(30);
            while (world.WhatsApp.Count < employees && DateTime.UtcNow < all) await Task.Delay(50);
            await Task.Delay(200);
            var log = world.WhatsApp.Snapshot();
            result.Require("0 duplicates", log.Duplicates == 0, $"{log.Duplicates} duplicate sends");
            result.Require("all delivered", log.PerRecipient.Count == employees, $"{log.PerRecipient.Count} of {employees} phones got the message");
        }
        finally
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
        }
    }
}
