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

internal sealed record Delivery(string EmployeeId, string State, string? Form);

internal sealed record DeliveryPage(List<Delivery> Items, string? NextCursor);

internal sealed record Received(
    int Requests, int Accepted, int Rejected, int Recipients, int MaxPerRecipient, Dictionary<string, int> ByRecipient, int OutsideWindow = 0, int OverMessagingLimit = 0);

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

        var inWindow = settings.WorldSender is { } sender ? await MessageTheBotAsync(stub, sender) : 0;
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

        var exitCode = await CheckAsync(stub, before);
        if (settings.WorldSender is not null && exitCode == 0) exitCode = await FollowStatusesAsync(api, stub, accepted.Id, inWindow, before);
        return exitCode;
    }

    /// <summary>
    /// In world mode the stub, like WhatsApp, fails free-form text to anyone who has not messaged the number within the
    /// customer-service window (131047). So 4 in 5 employees say hello first; the bot answers each with its help
    /// text, and those answers are waited for so that the counts that follow are the announcement's alone.
    /// </summary>
    /// <returns>How many employees messaged the bot.</returns>
    private async Task<int> MessageTheBotAsync(HttpClient stub, string phoneNumberId)
    {
        var n = settings.Employees;
        var who = Enumerable.Range(1, n).Where(MessagedTheBot).ToList();
        Say($"{who.Count:N0} of the {n:N0} employees message the bot first (POST /stub/inbound): their 24-hour window opens; every fifth never does");
        var pre = await ReceivedAsync(stub);
        await Parallel.ForEachAsync(who, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
        {
            using var response = await stub.PostAsJsonAsync("/stub/inbound", new { phoneNumberId, from = Phone(i)[1..], text = "hello", name = $"Employee {i}" }, token);
            if (!response.IsSuccessStatusCode)
                throw new DemoFailedException($"POST /stub/inbound answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(token)}");
        });

        var timeout = TimeSpan.FromSeconds(n / 10.0 + 60);
        var deadline = Stopwatch.StartNew();
        var (answered, progressAt) = (0, TimeSpan.Zero);
        while (true)
        {
            var now = await ReceivedAsync(stub);
            var count = who.Count(i => now.ByRecipient.GetValueOrDefault(Phone(i)) > pre.ByRecipient.GetValueOrDefault(Phone(i)));
            if (count > answered) (answered, progressAt) = (count, deadline.Elapsed);
            if (answered == who.Count) break;
            // With --faults some answers are refused for good (131026): stop once they stop coming.
            if (settings.Faults && deadline.Elapsed - progressAt > TimeSpan.FromSeconds(3)) break;
            if (deadline.Elapsed > timeout) throw new DemoFailedException($"the bot answered {answered} of {who.Count} employees' messages within {timeout.TotalSeconds:N0} s");
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        Console.WriteLine($"  the bot answered {answered:N0} of them (its help text)");
        return who.Count;
    }

    /// <summary>
    /// Statuses come from the stub's webhooks after the sends: prints the counts until every delivery has its last
    /// one, then checks them: everyone read — text for the employees who messaged the bot, the employer's fallback
    /// template (in the stub's catalog) for the others — and prints how many got which form.
    /// </summary>
    private async Task<int> FollowStatusesAsync(HttpClient api, HttpClient stub, string id, int inWindow, Received before)
    {
        var outside = settings.Employees - inWindow;
        Say($"Statuses the stub posts to the webhook: all {settings.Employees:N0} should reach read — {inWindow:N0} as text, {outside:N0} (never messaged the bot) as the fallback template");
        var deadline = Stopwatch.StartNew();
        var (last, changedAt) = (default(Counts), TimeSpan.Zero);
        while (true)
        {
            using var response = await api.GetAsync($"/api/announcements/{id}");
            var c = (await ReadAsync<Announcement>(response, $"GET /api/announcements/{id}")).Counts;
            Console.WriteLine($"  {DateTimeOffset.UtcNow:HH:mm:ss}  sent={c.Sent,-5} delivered={c.Delivered,-5} read={c.Read,-5} failed={c.Failed,-5} unknown={c.Unknown}");
            if (c != last) (last, changedAt) = (c, deadline.Elapsed);
            if (c.Read == settings.Employees) break;
            if (deadline.Elapsed - changedAt > TimeSpan.FromSeconds(settings.Faults ? 5 : 30)) break;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var received = await ReceivedAsync(stub);
        var failedOutside = received.OutsideWindow - before.OutsideWindow;
        var forms = await FormsAsync(api, id);
        var text = forms.GetValueOrDefault("text");
        var template = forms.GetValueOrDefault("template");
        Console.WriteLine($"  forms: {string.Join(", ", forms.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Value:N0} {f.Key}"))}; " +
                          $"the stub failed {failedOutside:N0} text(s) with 131047 and {received.OverMessagingLimit - before.OverMessagingLimit:N0} over the messaging limit");
        if (last!.Read == settings.Employees && last.Failed == 0 && text == inWindow && template == outside)
        {
            Say($"OK: everyone reached — {text:N0} got text, {template:N0} the fallback template; 0 failed");
            return 0;
        }

        if (settings.Faults)
        {
            Say($"With --faults: {last.Read:N0} read, {last.Failed:N0} failed ({text:N0} text, {template:N0} template)");
            return 0;
        }

        Console.Error.WriteLine($"Demo: expected {inWindow} text + {outside} template, all read and 0 failed; got {text} text + {template} template, {last.Read} read, {last.Failed} failed");
        return 1;
    }

    /// <summary>How many deliveries went as text and how many as a template (the deliveries' <c>form</c>).</summary>
    private static async Task<Dictionary<string, int>> FormsAsync(HttpClient api, string id)
    {
        var forms = new Dictionary<string, int>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            using var response = await api.GetAsync($"/api/announcements/{id}/deliveries?limit=500" + (cursor is null ? "" : $"&cursor={cursor}"));
            var page = await ReadAsync<DeliveryPage>(response, "GET deliveries");
            foreach (var delivery in page.Items) forms[delivery.Form ?? "pending"] = forms.GetValueOrDefault(delivery.Form ?? "pending") + 1;
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return forms;
    }

    /// <summary>Every fifth employee never messaged the bot.</summary>
    private static bool MessagedTheBot(int i) => i % 5 != 0;

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
                                  $"read={c.Read,-5} failed={c.Failed,-5} unknown={c.Unknown}");
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
