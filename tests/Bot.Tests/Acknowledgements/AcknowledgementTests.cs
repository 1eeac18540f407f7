using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bot.Tests.Acknowledgements;

/// <summary>Required acknowledgement: the "Got it" button, taps, and reminders that go at most once per employee.</summary>
public sealed class AcknowledgementTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private const string Text = "The canteen closes at 14:00 on Friday.";
    private const string Fallback = "ack_notice";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly Dictionary<string, string?> NoLock = new() { ["Dispatcher:UseLock"] = "false" };

    [Fact]
    public async Task FiveTargetsThreeTapsOneReminderSendsExactlyTwoRemindersWithTwoDispatchers()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Employers:acme:FallbackTemplate:Name"] = Fallback,
            ["Employers:acme:FallbackTemplate:Language"] = "en",
        });
        var people = await AddEmployeesAsync(scenario);
        // e1 and e2 wrote to the bot (inside the 24-hour window: interactive buttons); e3, e4, e5 did not (the fallback template).
        foreach (var (_, phone) in people.Take(2)) await scenario.DeliverAsync(Meta.InboundText(phone, "hello"));
        var racers = Enumerable.Range(0, 2).Select(_ => scenario.BuildDispatcher(NoLock)).ToArray();
        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = Text,
            employeeIds = people.Take(5).Select(p => p.Id),
            sendAt = DateTimeOffset.UtcNow.AddHours(1),
            acknowledgement = new { required = true, remindAfter = "PT10S", maxReminders = 1 },
        });

        // Both dispatchers fan out the same announcement at once, as if the lock had failed.
        await RaceAsync(racers, id);
        var sends = AnnouncementSends(scenario, id);
        Assert.Equal(5, sends.Count);
        Assert.All(sends.Take(2), s => AssertButton(s.Body, id, Text));
        Assert.All(sends.Skip(2), s => AssertTemplatePayload(s.Body, id, Text));
        Assert.Equal("completed", (await scenario.GetAnnouncementAsync(id)).Status);

        // Three taps: a reply button, two template quick replies. A repeated tap, a stranger's and a non-target's change nothing.
        await scenario.DeliverAsync(ButtonReply(people[0].Phone, $"ack:{id}"));
        await scenario.DeliverAsync(TemplateButton(people[2].Phone, $"ack:{id}"));
        await scenario.DeliverAsync(TemplateButton(people[3].Phone, $"ack:{id}"));
        await scenario.DeliverAsync(ButtonReply(people[0].Phone, $"ack:{id}"));
        await scenario.DeliverAsync(ButtonReply("+16505559876", $"ack:{id}"));
        await scenario.DeliverAsync(ButtonReply(people[5].Phone, $"ack:{id}"));
        var afterTaps = await GetAsync(scenario, id);
        Assert.Equal(3, afterTaps["counts"]!["acknowledged"]!.GetValue<long>());

        // Reminder 1, again run by both dispatchers at once.
        await RaceAsync(racers, id);
        var reminders = ReminderSends(scenario, id);
        Assert.Equal([people[1].Phone, people[4].Phone], reminders.Select(r => r.To).Order());
        AssertButton(reminders.Single(r => r.To == people[1].Phone).Body, id, "Reminder: " + Text);
        AssertTemplatePayload(reminders.Single(r => r.To == people[4].Phone).Body, id, "Reminder: " + Text);
        var view = await GetAsync(scenario, id);
        Assert.Equal(("completed", 3L, 2L), (view["status"]!.GetValue<string>(), view["counts"]!["acknowledged"]!.GetValue<long>(), view["counts"]!["reminded"]!.GetValue<long>()));
        Assert.Equal(1, view["acknowledgement"]!["remindersSent"]!.GetValue<int>());
        Assert.Null(view["acknowledgement"]!["nextReminderAt"]);

        // A dispatcher that died after sending but before moving on leaves reminder 1 due again: a restarted one sends nobody anything.
        await scenario.Redis.HashSetAsync(RedisKeys.Announcement(id), "reminder", 1);
        var restarted = scenario.BuildDispatcher(NoLock);
        await restarted.FanOut().RunAsync(restarted.Queue(), id, "restarted", () => true, CancellationToken.None);
        Assert.Equal(2, ReminderSends(scenario, id).Count);
        Assert.Equal(5, AnnouncementSends(scenario, id).Count);
        Assert.Equal(2, (await GetAsync(scenario, id))["counts"]!["reminded"]!.GetValue<long>());

        // Who tapped, and who was reminded, per delivery; who still has to, by department; the export.
        var deliveries = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/announcements/{id}/deliveries"))!["items"]!.AsArray();
        var byId = deliveries.ToDictionary(d => d!["employeeId"]!.GetValue<string>(), d => d!);
        Assert.Equal(["e1", "e3", "e4"], byId.Where(d => d.Value["acknowledgedAt"] is not null).Select(d => d.Key).Order());
        Assert.Equal([0, 1, 0, 0, 1], byId.OrderBy(d => d.Key).Select(d => d.Value["reminders"]!.GetValue<int>()));
        var open = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/announcements/{id}/unacknowledged"))!["items"]!.AsArray();
        Assert.Equal([("e2", "Sales", 1), ("e5", "Warehouse", 1)],
            open.Select(o => (o!["employeeId"]!.GetValue<string>(), o["department"]!.GetValue<string>(), o["reminders"]!.GetValue<int>())));
        var sales = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/announcements/{id}/unacknowledged?department=Warehouse"))!["items"]!.AsArray();
        Assert.Equal(["e5"], sales.Select(o => o!["employeeId"]!.GetValue<string>()));
        var csv = (await scenario.Api.GetStringAsync($"/api/announcements/{id}/deliveries.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var column = Array.IndexOf(csv[0].Split(','), "acknowledgedAt");
        var acknowledgedAt = csv.Skip(1).Select(line => line.Split(',')).ToDictionary(cells => cells[0], cells => cells[column]);
        Assert.Equal(["e1", "e3", "e4"], acknowledgedAt.Where(a => a.Value != "").Select(a => a.Key).Order());
        Assert.Equal(byId["e1"]["acknowledgedAt"]!.GetValue<DateTimeOffset>(), DateTimeOffset.Parse(acknowledgedAt["e1"], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task RunningDispatchersSendEachDueReminderToWhoHasNotTappedAndStopAfterTheLast()
    {
        await using var scenario = new Scenario(redis);
        var people = (await AddEmployeesAsync(scenario)).Take(3).ToList();
        await scenario.StartDispatchersAsync(2, NoLock);
        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = Text,
            employeeIds = people.Select(p => p.Id),
            acknowledgement = new { required = true, remindAfter = "PT10S", maxReminders = 2 },
        });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        await scenario.DeliverAsync(ButtonReply(people[0].Phone, $"ack:{id}"));

        // Each reminder is due 10 s after the previous pass: made due now, as if the time had passed.
        await DueNowAsync(scenario, id);
        var first = await WaitForReminderPassesAsync(scenario, id, 1);
        Assert.Equal(2, first["counts"]!["reminded"]!.GetValue<long>());
        Assert.NotNull(first["acknowledgement"]!["nextReminderAt"]);
        await scenario.DeliverAsync(TemplateButton(people[1].Phone, $"ack:{id}"));
        await DueNowAsync(scenario, id);
        var second = await WaitForReminderPassesAsync(scenario, id, 2);

        Assert.Equal(("completed", 3L, 2L), (second["status"]!.GetValue<string>(), second["counts"]!["reminded"]!.GetValue<long>(),
            second["counts"]!["acknowledged"]!.GetValue<long>()));
        Assert.Null(second["acknowledgement"]!["nextReminderAt"]);
        Assert.Equal([people[1].Phone, people[2].Phone, people[2].Phone], ReminderSends(scenario, id).Select(s => s.To).Order());
        // Nothing left to remind: the announcement left the schedule.
        var queue = scenario.AppServices.GetRequiredService<AnnouncementQueues>().Of(AnnouncementQueues.DefaultSender);
        await Eventually.WaitAsync(async () => !await queue.RescheduleAsync(id, DateTimeOffset.UtcNow), Timeout, "the announcement off the schedule");
    }

    [Fact]
    public async Task ATapForAnAnnouncementWithoutAcknowledgementIsIgnoredAndAnsweredByNothing()
    {
        await using var scenario = new Scenario(redis);
        var people = await AddEmployeesAsync(scenario);
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = Text, employeeIds = new[] { people[0].Id } });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);

        await scenario.DeliverAsync(ButtonReply(people[0].Phone, $"ack:{id}"));
        // A later message's reply marks the point by which an answer to the tap would have gone.
        await scenario.DeliverAsync(Meta.InboundText(people[0].Phone, "help"));
        await scenario.WaitForSendsToAsync(people[0].Phone, 2);

        var view = await GetAsync(scenario, id);
        Assert.Equal(0, view["counts"]!["acknowledged"]!.GetValue<long>());
        Assert.Null(view["acknowledgement"]);
        Assert.Equal(2, scenario.Stub.CountTo(people[0].Phone)); // the announcement and the help text: nothing for the tap
        Assert.Equal(0, await scenario.Redis.HashLengthAsync(RedisKeys.Acknowledgements(id)));
        Assert.Equal(HttpStatusCode.Conflict, (await scenario.Api.GetAsync($"/api/announcements/{id}/unacknowledged")).StatusCode);
    }

    [Theory]
    [InlineData("""{"required":false}""", "acknowledgement.required")]
    [InlineData("""{"required":true,"remindAfter":"PT9S"}""", "acknowledgement.remindAfter")]
    [InlineData("""{"required":true,"remindAfter":"P8D"}""", "acknowledgement.remindAfter")]
    [InlineData("""{"required":true,"remindAfter":"1 hour"}""", "acknowledgement.remindAfter")]
    [InlineData("""{"required":true,"remindAfter":"P1M"}""", "acknowledgement.remindAfter")]
    [InlineData("""{"required":true,"remindAfter":"PT"}""", "acknowledgement.remindAfter")]
    [InlineData("""{"required":true,"remindAfter":"P99999999999999D"}""", "acknowledgement.remindAfter")]
    [InlineData("""{"required":true,"maxReminders":2}""", "acknowledgement.remindAfter")]
    [InlineData("""{"required":true,"remindAfter":"PT1H","maxReminders":6}""", "acknowledgement.maxReminders")]
    [InlineData("""{"required":true,"remindAfter":"PT1H","maxReminders":-1}""", "acknowledgement.maxReminders")]
    public async Task BadAcknowledgementFieldsAreA400NamingTheField(string acknowledgement, string field)
    {
        await using var scenario = new Scenario(redis);
        var body = $$"""{"message":"hi","acknowledgement":{{acknowledgement}}}""";

        foreach (var route in new[] { "/api/announcements", "/api/announcements/preview" })
            await Problems.AssertNamesFieldAsync(await scenario.Api.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json")), field);
    }

    [Fact]
    public async Task AMessageTooLongForButtonsIsA400NamingTheMessage()
    {
        await using var scenario = new Scenario(redis);
        var response = await scenario.Api.PostAsJsonAsync("/api/announcements",
            new { message = new string('a', 1015), acknowledgement = new { required = true } });
        await Problems.AssertNamesFieldAsync(response, "message");
        var fits = await scenario.Api.PostAsJsonAsync("/api/announcements/preview",
            new { message = new string('a', 1014), acknowledgement = new { required = true, remindAfter = "PT10S" } });
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
    }

    /// <summary>e1…e6 in two departments; e6 is never targeted.</summary>
    internal static async Task<List<(string Id, string Phone)>> AddEmployeesAsync(Scenario scenario)
    {
        const string csv = """
            employeeId,phone,name,department
            e1,+16505550101,Ada,Sales
            e2,+16505550102,Bo,Sales
            e3,+16505550103,Cy,Warehouse
            e4,+16505550104,Di,Warehouse
            e5,+16505550105,Ed,Warehouse
            e6,+16505550106,Fe,Sales
            """;
        (await scenario.Api.PostAsync("/api/employees/import", new StringContent(csv, Encoding.UTF8, "text/csv"))).EnsureSuccessStatusCode();
        return [.. Enumerable.Range(1, 6).Select(i => ($"e{i}", $"+165055501{i:D2}"))];
    }

    private static Task RaceAsync(IHost[] racers, string id) =>
        Task.WhenAll(racers.Select((h, i) => Task.Run(() => h.FanOut().RunAsync(h.Queue(), id, $"racer{i}", () => true, CancellationToken.None))));

    /// <summary>The announcement's own sends (callback data "id:employee"), in employee order.</summary>
    private static List<ObservedSend> AnnouncementSends(Scenario scenario, string id) =>
        [.. scenario.Stub.Sends.Where(s => s.CallbackData?.StartsWith(id + ":", StringComparison.Ordinal) == true && !s.CallbackData.EndsWith(":r1", StringComparison.Ordinal)
            && !s.CallbackData.EndsWith(":r2", StringComparison.Ordinal)).OrderBy(s => s.CallbackData)];

    private static List<ObservedSend> ReminderSends(Scenario scenario, string id) =>
        [.. scenario.Stub.Sends.Where(s => s.CallbackData?.StartsWith(id + ":", StringComparison.Ordinal) == true &&
            (s.CallbackData.EndsWith(":r1", StringComparison.Ordinal) || s.CallbackData.EndsWith(":r2", StringComparison.Ordinal)))];

    private static void AssertButton(JsonNode body, string id, string text)
    {
        Assert.Equal("interactive", body["type"]!.GetValue<string>());
        Assert.Equal(text, body["interactive"]!["body"]!["text"]!.GetValue<string>());
        var reply = body["interactive"]!["action"]!["buttons"]![0]!["reply"]!;
        Assert.Equal(($"ack:{id}", "Got it"), (reply["id"]!.GetValue<string>(), reply["title"]!.GetValue<string>()));
    }

    private static void AssertTemplatePayload(JsonNode body, string id, string text)
    {
        Assert.Equal(Fallback, body["template"]!["name"]!.GetValue<string>());
        var components = body["template"]!["components"]!.AsArray();
        Assert.Equal(text, components.Single(c => c!["type"]!.GetValue<string>() == "body")!["parameters"]![0]!["text"]!.GetValue<string>());
        var button = components.Single(c => c!["type"]!.GetValue<string>() == "button")!;
        Assert.Equal(("quick_reply", "0", $"ack:{id}"),
            (button["sub_type"]!.GetValue<string>(), button["index"]!.GetValue<string>(), button["parameters"]![0]!["payload"]!.GetValue<string>()));
    }

    private static async Task<JsonObject> GetAsync(Scenario scenario, string id) =>
        (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/announcements/{id}"))!;

    /// <summary>The announcement once <paramref name="passes"/> reminder passes finished (each moves on to the next reminder last).</summary>
    private static Task<JsonObject> WaitForReminderPassesAsync(Scenario scenario, string id, int passes) =>
        Eventually.WaitAsync(() => GetAsync(scenario, id), a => a["acknowledgement"]!["remindersSent"]!.GetValue<int>() >= passes,
            Timeout, $"{passes} reminder passes");

    /// <summary>Makes the announcement's next reminder due now, once its previous pass queued it.</summary>
    internal static Task DueNowAsync(Scenario scenario, string id)
    {
        var queue = scenario.AppServices.GetRequiredService<AnnouncementQueues>().Of(AnnouncementQueues.DefaultSender);
        return Eventually.WaitAsync(() => queue.RescheduleAsync(id, DateTimeOffset.UtcNow), Timeout, "the reminder queued");
    }

    /// <summary>A tap on a reply button: <c>interactive.button_reply</c>, as docs/whatsapp.md shows it.</summary>
    internal static byte[] ButtonReply(string fromPhone, string buttonId) => Tap(fromPhone, new Dictionary<string, object?>
    {
        ["type"] = "interactive",
        ["interactive"] = new { type = "button_reply", button_reply = new { id = buttonId, title = "Got it" } },
    });

    /// <summary>A tap on a template's quick-reply button: <c>button.payload</c>.</summary>
    internal static byte[] TemplateButton(string fromPhone, string payload) => Tap(fromPhone, new Dictionary<string, object?>
    {
        ["type"] = "button",
        ["button"] = new { payload, text = "Got it" },
    });

    private static byte[] Tap(string fromPhone, Dictionary<string, object?> content)
    {
        var message = new Dictionary<string, object?>
        {
            ["from"] = Meta.WaId(fromPhone),
            ["id"] = Meta.NewMessageId(),
            ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["context"] = new { from = "15550783881", id = Meta.NewMessageId() },
        };
        foreach (var (key, value) in content) message[key] = value;
        return Meta.Envelope(new Dictionary<string, object?>
        {
            ["contacts"] = new[] { new { profile = new { name = "Sheena Nelson" }, wa_id = Meta.WaId(fromPhone) } },
            ["messages"] = new[] { message },
        });
    }
}
