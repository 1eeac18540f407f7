using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using Bot.Webhook.Webhook;
using Microsoft.Extensions.Time.Testing;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Bot.Tests.Senders;

/// <summary>WhatsApp as it really behaves: a number per employer, WhatsApp ids, the 24-hour window, messaging limits.</summary>
public sealed class SenderTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);
    private const string NumberA = "100000000000001", NumberB = "200000000000002";
    private const string Message = "The canteen is closed on Friday.";

    /// <summary>A send as WhatsApp received it: from which number, with which token.</summary>
    private sealed record Request(string PhoneNumberId, string? Authorization, string To, string? Text, string? Template, string? CallbackData, JsonNode Body);

    private static List<Request> Requests(Scenario scenario) =>
        [.. scenario.Stub.Server.LogEntries
            .Where(e => e.RequestMessage.Method == "POST" && e.RequestMessage.Path.EndsWith("/messages", StringComparison.Ordinal))
            .Select(e =>
            {
                var body = JsonNode.Parse(e.RequestMessage.Body!)!;
                var authorization = e.RequestMessage.Headers!.TryGetValue("Authorization", out var values) ? values.ToString() : null;
                return new Request(e.RequestMessage.Path.Split('/')[2], authorization, body["to"]!.GetValue<string>(),
                    body["text"]?["body"]?.GetValue<string>(), body["template"]?["name"]?.GetValue<string>(),
                    body["biz_opaque_callback_data"]?.GetValue<string>(), body);
            })];

    [Fact]
    public async Task TwoEmployersOnTwoSendersSendFromTheirOwnNumberAndAStopOnlyAppliesToThatNumbersEmployer()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Senders:a:PhoneNumberId"] = NumberA,
            ["Senders:a:AccessToken"] = "token-a",
            ["Senders:b:PhoneNumberId"] = NumberB,
            ["Senders:b:AccessToken"] = "token-b",
            ["Employers:acme:Sender"] = "a",
            ["Employers:other:Sender"] = "b",
        });
        var other = scenario.ClientFor(Scenario.OtherApiKey);
        var acmeStaff = await scenario.AddEmployeesAsync(3);
        // The first of them also works for the other employer (a second job), under the other's id.
        var import = new StringContent($"employeeId,phone\nx1,{acmeStaff[0].Phone}\nx2,+16502001002\n", Encoding.UTF8, "text/csv");
        (await other.PostAsync("/api/employees/import", import)).EnsureSuccessStatusCode();
        await scenario.StartDispatchersAsync(1);

        var fromAcme = await scenario.CreateAnnouncementAsync(new { message = "From acme" });
        var fromOther = (await (await other.PostAsJsonAsync("/api/announcements", new { message = "From other" })).Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id;
        await scenario.WaitForStatusAsync(fromAcme, "completed", Timeout);
        await Eventually.WaitAsync(async () => (await other.GetFromJsonAsync<Scenario.AnnouncementView>($"/api/announcements/{fromOther}"))!.Status == "completed",
            Timeout, "the other employer's announcement completed");

        var sends = Requests(scenario);
        Assert.All(sends.Where(s => s.Text == "From acme"), s => Assert.Equal((NumberA, "Bearer token-a"), (s.PhoneNumberId, s.Authorization)));
        Assert.All(sends.Where(s => s.Text == "From other"), s => Assert.Equal((NumberB, "Bearer token-b"), (s.PhoneNumberId, s.Authorization)));
        Assert.Equal(3, sends.Count(s => s.Text == "From acme"));
        Assert.Equal(2, sends.Count(s => s.Text == "From other"));

        // STOP written to acme's number: acme's employee opts out, the other employer's stays subscribed.
        await scenario.DeliverAsync(Meta.InboundText(acmeStaff[0].Phone, "STOP", toPhoneNumberId: NumberA));
        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync(acmeStaff[0].Id)).Status);
        Assert.Equal("active", (await scenario.GetEmployeeAsync("x1", other)).Status);
        // The reply goes out from the number written to.
        await Eventually.WaitAsync(() => Task.FromResult(Requests(scenario).Any(s => s.Text == BotConversation.StoppedText)), Timeout, "the STOP reply");
        var reply = Requests(scenario).Single(s => s.Text == BotConversation.StoppedText);
        Assert.Equal((NumberA, "Bearer token-a", acmeStaff[0].Phone), (reply.PhoneNumberId, reply.Authorization, reply.To));

        // A webhook for a number no sender is configured with changes nothing and is still answered 200.
        await scenario.DeliverAsync(Meta.InboundText(acmeStaff[1].Phone, "STOP", toPhoneNumberId: "999999999999999"));
        Assert.Equal("active", (await scenario.GetEmployeeAsync(acmeStaff[1].Id)).Status);
    }

    [Fact]
    public async Task AWhatsAppIdDifferentFromTheRegisteredNumberStillOptsOut()
    {
        await using var scenario = new Scenario(redis);
        // A São Paulo mobile: WhatsApp knows this person by the older 8-digit form of the number.
        const string phone = "+5511987654321", waId = "551187654321";
        var put = await scenario.Api.PutAsJsonAsync("/api/employees/br1", new { phone, name = "Ana" });
        put.EnsureSuccessStatusCode();
        scenario.Stub.ForRecipient(phone).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithBodyAsJson(new { messaging_product = "whatsapp", contacts = new[] { new { input = phone, wa_id = waId } }, messages = new[] { new { id = "wamid.br1" } } }));
        await scenario.StartDispatchersAsync(1);
        await scenario.WaitForStatusAsync(await scenario.CreateAnnouncementAsync(new { message = Message }), "completed", Timeout);

        await scenario.DeliverAsync(Meta.InboundText("+" + waId, "STOP"));

        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync("br1")).Status);
        await Eventually.WaitAsync(() => Task.FromResult(Requests(scenario).Any(s => s.Text == BotConversation.StoppedText)), Timeout, "the STOP reply");
        Assert.Equal("+" + waId, Requests(scenario).Single(s => s.Text == BotConversation.StoppedText).To);
    }

    [Fact]
    public async Task EmployeesInsideTheWindowGetTextAndTheOthersTheFallbackTemplate()
    {
        await using var scenario = new Scenario(redis, FallbackTemplate);
        var staff = await scenario.AddEmployeesAsync(10);
        var talked = staff.Take(4).ToList();
        await scenario.DeliverAsync(Meta.InboundTexts([.. talked.Select(e => (e.Phone, "hello", Meta.NewMessageId()))]));

        var preview = await (await scenario.Api.PostAsJsonAsync("/api/announcements/preview", new { message = Message })).Content.ReadFromJsonAsync<JsonNode>();
        Assert.Equal((10, 6, 0), (preview!["targeted"]!.GetValue<int>(), preview["outsideWindow"]!.GetValue<int>(), preview["overMessagingLimit"]!.GetValue<int>()));

        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = Message });
        var done = await scenario.WaitForStatusAsync(id, "completed", Timeout);

        var sends = Requests(scenario).Where(s => s.CallbackData is not null).ToList();
        Assert.Equal(talked.Select(e => e.Phone).Order(), sends.Where(s => s.Text == Message).Select(s => s.To).Order());
        var templates = sends.Where(s => s.Template is not null).ToList();
        Assert.Equal(staff.Skip(4).Select(e => e.Phone).Order(), templates.Select(s => s.To).Order());
        Assert.All(templates, t =>
        {
            Assert.Equal("announcement_notice", t.Template);
            Assert.Equal(Message, t.Body["template"]!["components"]![0]!["parameters"]![0]!["text"]!.GetValue<string>());
        });
        Assert.Equal((10, 0), (done.Counts.Sent, done.Counts.Failed));
        var forms = (await scenario.GetDeliveriesAsync(id)).ToDictionary(d => d.EmployeeId, d => d.Form);
        Assert.All(talked, e => Assert.Equal("text", forms[e.Id]));
        Assert.All(staff.Skip(4), e => Assert.Equal("template", forms[e.Id]));
    }

    [Fact]
    public async Task ALate131047OnATextCausesExactlyOneTemplateResend()
    {
        await using var scenario = new Scenario(redis, FallbackTemplate);
        var employee = (await scenario.AddEmployeesAsync(1))[0];
        // The window looks open here (the employee wrote), but WhatsApp knows better: the text fails with 131047.
        await scenario.DeliverAsync(Meta.InboundText(employee.Phone, "hello"));
        await scenario.StartDispatchersAsync(2, new Dictionary<string, string?> { ["Dispatcher:UseLock"] = "false" });
        var id = await scenario.CreateAnnouncementAsync(new { message = Message });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        var text = Requests(scenario).Single(s => s.Text == Message);
        var wamid = (await scenario.GetDeliveriesAsync(id)).Single().MessageId!;

        // Meta sends the failure, and then (duplicates happen) again.
        var failed = Meta.Statuses(Meta.Status(wamid, "failed", employee.Phone, text.CallbackData, errorCode: 131047));
        await scenario.DeliverAsync(failed);
        await scenario.DeliverAsync(failed);

        var delivery = await Eventually.WaitAsync(async () => (await scenario.GetDeliveriesAsync(id)).Single(),
            d => d is { Form: "template", State: "sent" }, Timeout, "the template re-send recorded");
        Assert.NotEqual(wamid, delivery.MessageId);
        // The re-sent delivery is answered 'delivered' for the template; a late duplicate of the text's failure changes nothing.
        await scenario.DeliverAsync(failed);
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(delivery.MessageId!, "delivered", employee.Phone, text.CallbackData)));
        Assert.Equal("delivered", (await scenario.GetDeliveriesAsync(id)).Single().State);
        // Queued again by the duplicate, and dropped by a dispatcher: the delivery is no failed text any more.
        await Eventually.WaitAsync(async () => await scenario.Redis.SortedSetLengthAsync(RedisKeys.Resends("default")) == 0, Timeout, "the re-send queue empty");
        var sends = Requests(scenario).Where(s => s.CallbackData is not null).ToList();
        Assert.Equal(2, sends.Count);
        Assert.Equal("announcement_notice", sends.Single(s => s.Template is not null).Template);
        var counts = (await scenario.GetAnnouncementAsync(id)).Counts;
        Assert.Equal((1, 1, 0), (counts.Targeted, counts.Delivered, counts.Failed));
    }

    [Fact]
    public async Task ATemplateAnnouncementUnderA250LimitSends250AWindowAndCompletesAsTheWindowMoves()
    {
        // WhatsApp's 24-hour window, on a clock the test moves; four windows is longer than an announcement may take by default.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Portfolios:default:MessagingLimit"] = "250",
            ["Dispatcher:MaxDispatchAge"] = "7.00:00:00",
        }, clock);
        var staff = await scenario.AddEmployeesAsync(1000);
        var preview = await (await scenario.Api.PostAsJsonAsync("/api/announcements/preview", Template)).Content.ReadFromJsonAsync<JsonNode>();
        Assert.Equal(750, preview!["overMessagingLimit"]!.GetValue<int>());
        await scenario.StartDispatchersAsync(2, new Dictionary<string, string?> { ["Dispatcher:UseLock"] = "false" });

        var id = await scenario.CreateAnnouncementAsync(Template);
        for (var window = 1; window < 4; window++)
        {
            await Eventually.WaitAsync(() => scenario.GetAnnouncementAsync(id), a => a.Status == "waiting_for_limit" && a.Counts.Sent == 250 * window,
                Timeout, $"waiting after {250 * window} sent");
            Assert.Equal(250 * window, Requests(scenario).Count);
            var resumesAt = (await scenario.Api.GetFromJsonAsync<JsonNode>($"/api/announcements/{id}"))!["resumesAt"]!.GetValue<DateTimeOffset>();
            // All 250 places were taken at this instant: they free 24 hours on, looked at 1 % of the window later.
            Assert.Equal((clock.GetUtcNow() + Day + Day / 100).ToUnixTimeMilliseconds(), resumesAt.ToUnixTimeMilliseconds());
            clock.Advance(resumesAt - clock.GetUtcNow());
        }
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        var sends = Requests(scenario);
        Assert.Equal(staff.Select(e => e.Phone).Order(), sends.Select(s => s.To).Order());
        Assert.Equal(1000, (await scenario.GetAnnouncementAsync(id)).Counts.Sent);
    }

    [Fact]
    public async Task WithoutAFallbackTemplateTheTextGoesToEveryoneAndWhatsAppFailsItOutsideTheWindow()
    {
        // The shipped stub as WhatsApp behaves: it knows who messaged the number, and posts statuses to a real webhook.
        var webhookPort = Ports.Free();
        using var whatsApp = new WhatsAppStub(o => o with
        {
            WebhookUrl = new Uri($"http://127.0.0.1:{webhookPort}/webhook"),
            AppSecret = Meta.AppSecret,
            Senders = new Dictionary<string, string> { [WhatsAppStub.PhoneNumberId] = WhatsAppStub.AccessToken },
            SentAfter = TimeSpan.FromMilliseconds(100),
            DeliveredAfter = TimeSpan.FromMilliseconds(200),
            ReadAfter = null,
        });
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["WhatsApp:BaseUrl"] = whatsApp.Url });
        await using var webhook = Portal.PortalServer.Start(scenario.Settings, webhookPort);
        var staff = await scenario.AddEmployeesAsync(10);
        var talked = staff.Take(4).ToList();
        foreach (var (_, phone) in talked) await whatsApp.InboundAsync(WhatsAppStub.PhoneNumberId, phone.TrimStart('+'), "hello");
        // Their help replies are out: the window is recorded.
        await Eventually.WaitAsync(() => Task.FromResult(talked.All(e => whatsApp.Sends.Any(s => s.To == e.Phone))), Timeout, "the help replies");

        var preview = await (await scenario.Api.PostAsJsonAsync("/api/announcements/preview", new { message = Message })).Content.ReadFromJsonAsync<JsonNode>();
        Assert.Equal(6, preview!["outsideWindow"]!.GetValue<int>());
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = Message });

        var counts = (await Eventually.WaitAsync(() => scenario.GetAnnouncementAsync(id),
            a => a.Counts.Failed == 6 && a.Counts.Delivered == 4, Timeout, "6 failed and 4 delivered")).Counts;
        Assert.Equal(10, whatsApp.Sends.Count(s => s.Text == Message));
        Assert.Equal((10, 0, 4, 6), (counts.Targeted, counts.Sent, counts.Delivered, counts.Failed));
        var deliveries = await scenario.GetDeliveriesAsync(id);
        Assert.Equal(staff.Skip(4).Select(e => e.Id).Order(), deliveries.Where(d => d.State == "failed").Select(d => d.EmployeeId).Order());
        Assert.All(deliveries.Where(d => d.State == "failed"), d => Assert.Equal(("131047", "text"), (d.Error, d.Form)));
        Assert.Equal(6, whatsApp.Received.OutsideWindow);
    }

    private static readonly object Template = new { template = new { name = "shift_notice", language = "en_US", parameters = new[] { "Friday" } } };

    private static Dictionary<string, string?> FallbackTemplate => new()
    {
        ["Employers:acme:FallbackTemplate:Name"] = "announcement_notice",
        ["Employers:acme:FallbackTemplate:Language"] = "en_US",
    };
}
