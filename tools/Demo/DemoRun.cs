using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Bot.Tools.Demo;

public sealed class DemoFailedException(string message) : Exception(message);

/// <summary>The employer API's and the stub's JSON, as far as the demo reads it.</summary>
internal sealed record ImportResult(int Created, int Updated, int Unchanged, JsonElement[] Rejected);

internal sealed record Accepted(string Id, string Status, DateTimeOffset SendAt);

internal sealed record Counts(long Targeted, long Sent, long Delivered, long Read, long Failed, long Unknown, long Skipped);

internal sealed record Announcement(string Id, string Status, Counts Counts);

internal sealed record Received(int Requests, int Accepted, int Rejected, int Recipients, int MaxPerRecipient, Dictionary<string, int> ByRecipient);

/// <summary>
/// Registers employees, schedules one announcement to them, follows it through the API while timing the sends at the
/// stub (<c>GET /stub/received</c>), then checks every employee got exactly one message.
/// </summary>
public sealed class DemoRun(DemoSettings settings)
{
    private static readonly TimeSpan Lead = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StubPoll = TimeSpan.FromMilliseconds(20);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<int> RunAsync()
    {
        using var api = new HttpClient { BaseAddress = settings.Api, Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Add("X-Api-Key", settings.ApiKey);
        using var stub = new HttpClient { BaseAddress = settings.Stub, Timeout = TimeSpan.FromSeconds(30) };
        var n = settings.Employees;
        var ids = Enumerable.Range(1, n).Select(i => $"e{i:D5}").ToList();

        Say($"Registering {n:N0} employees (POST /api/employees/import)");
        var csv = new StringBuilder("employeeId,phone,name\n");
        for (var i = 1; i <= n; i++) csv.Append(CultureInfo.InvariantCulture, $"e{i:D5},{Phone(i)},Employee {i}\n");
        using var import = await api.PostAsync("/api/employees/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        var imported = await ReadAsync<ImportResult>(import, "employee import");
        if (imported.Rejected.Length > 0) throw new DemoFailedException($"employee import rejected {imported.Rejected.Length} row(s): {imported.Rejected[0]}");

        var before = await ReceivedAsync(stub);
        var sendAt = DateTimeOffset.UtcNow.Add(Lead);
        Say($"Scheduling an announcement to those {n:N0} employees at {sendAt:HH:mm:ss.fff}Z");
        // The explicit list keeps employees registered by earlier runs out of this count.
        using var create = await api.PostAsJsonAsync("/api/announcements",
            new { message = $"Hello from ./run.sh ({n:N0} employees)", sendAt = sendAt.ToString("O", CultureInfo.InvariantCulture), employeeIds = ids });
        var accepted = await ReadAsync<Accepted>(create, "POST /api/announcements");
        Console.WriteLine($"  announcement {accepted.Id}");

        var (first, last, done) = await FollowAsync(api, stub, accepted.Id, before.Accepted, TimeSpan.FromSeconds(n / 10.0 + 60));
        if (first is { } f && last is { } l)
        {
            var seconds = (l - f).TotalSeconds;
            var rate = seconds > 0 ? (done - 1) / seconds : double.NaN;
            Say($"Rate seen at the stub: {done:N0} messages in {seconds:N2} s from first to last = {rate:N1}/s " +
                $"(due → last: {(l - accepted.SendAt).TotalSeconds:N2} s)");
        }

        return await CheckAsync(stub, before);
    }

    /// <summary>
    /// Prints the announcement's counts once a second until it is completed; meanwhile polls the stub every 20 ms
    /// and returns when its first and last new accepted send were seen, and how many.
    /// </summary>
    private async Task<(DateTimeOffset? First, DateTimeOffset? Last, int Sends)> FollowAsync(
        HttpClient api, HttpClient stub, string id, int acceptedBefore, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        TimeSpan? printed = null;
        DateTimeOffset? first = null, last = null;
        var seen = 0;
        while (true)
        {
            var now = DateTimeOffset.UtcNow;
            var count = (await ReceivedAsync(stub)).Accepted - acceptedBefore;
            if (count > 0 && first is null) first = now;
            if (count > seen) (seen, last) = (count, now);

            if (printed is null || deadline.Elapsed - printed >= TimeSpan.FromSeconds(1))
            {
                printed = deadline.Elapsed;
                using var response = await api.GetAsync($"/api/announcements/{id}");
                var view = await ReadAsync<Announcement>(response, $"GET /api/announcements/{id}");
                var c = view.Counts;
                Console.WriteLine($"  {now:HH:mm:ss}  status={view.Status,-11} targeted={c.Targeted,-5} sent={c.Sent,-5} delivered={c.Delivered,-5} " +
                                  $"failed={c.Failed,-5} unknown={c.Unknown}");
                if (view.Status == "completed") return (first, last, seen);
            }

            if (deadline.Elapsed > timeout) throw new DemoFailedException($"announcement {id} not completed within {timeout.TotalSeconds:N0} s");
            await Task.Delay(StubPoll);
        }
    }

    private async Task<int> CheckAsync(HttpClient stub, Received before)
    {
        Say($"Messages per recipient at the stub ({settings.Stub}stub/received)");
        // A send is counted as its answer starts, and the last answers can reach the dispatcher a moment earlier.
        var n = settings.Employees;
        var received = await ReceivedAsync(stub);
        for (var wait = Stopwatch.StartNew(); Got(received, before) < n && wait.Elapsed < TimeSpan.FromSeconds(2); received = await ReceivedAsync(stub))
            await Task.Delay(StubPoll);
        if (settings.ReceivedFile is { } file) await File.WriteAllTextAsync(file, JsonSerializer.Serialize(received, Json));

        var counts = Enumerable.Range(1, n).Select(i => (Phone: Phone(i), Count: received.ByRecipient.GetValueOrDefault(Phone(i)) - before.ByRecipient.GetValueOrDefault(Phone(i)))).ToList();
        foreach (var (phone, count) in counts.Take(n <= 20 ? n : 5)) Console.WriteLine($"  {phone} {count}");
        if (n > 20) Console.WriteLine($"  ... (all {n:N0}{(settings.ReceivedFile is null ? "" : " in " + settings.ReceivedFile)})");
        foreach (var group in counts.GroupBy(c => c.Count).OrderBy(g => g.Key))
            Console.WriteLine($"  {group.Count()} recipient(s) got {group.Key} message(s)");

        var missing = counts.Count(c => c.Count == 0);
        var duplicated = counts.Count(c => c.Count > 1);
        if (missing == 0 && duplicated == 0)
        {
            Say($"OK: each of the {n:N0} employees got exactly 1 message");
            return 0;
        }

        if (settings.Faults)
        {
            Say($"With --faults: {missing} employee(s) got no message (e.g. 131026 for numbers ending in 026), {duplicated} more than one");
            return 0;
        }

        Console.Error.WriteLine($"Demo: {missing} employee(s) got no message and {duplicated} got more than one");
        return 1;
    }

    private int Got(Received now, Received before) =>
        Enumerable.Range(1, settings.Employees).Count(i => now.ByRecipient.GetValueOrDefault(Phone(i)) > before.ByRecipient.GetValueOrDefault(Phone(i)));

    private static async Task<Received> ReceivedAsync(HttpClient stub) =>
        await stub.GetFromJsonAsync<Received>("/stub/received", Json) ?? throw new DemoFailedException("GET /stub/received answered null");

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
            throw new DemoFailedException($"{what} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<T>(Json) ?? throw new DemoFailedException($"{what} answered an empty body");
    }

    private static string Phone(int i) => $"+1650555{i:D4}";

    private static void Say(string text) => Console.WriteLine($"==> {text}");
}
