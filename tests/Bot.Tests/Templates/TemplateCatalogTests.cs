using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bot.Core.Templates;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using Bot.Webhook.Templates;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Templates;

public sealed class TemplateCatalogTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static Scenario WithCatalog(SharedRedis redis) => new(redis, new Dictionary<string, string?> { ["WhatsApp:WabaId"] = WhatsAppStub.WabaId });

    private static async Task<int> SyncAsync(Scenario scenario) =>
        (await scenario.AppServices.GetRequiredService<TemplateSyncService>().SyncAllAsync(CancellationToken.None))["default"];

    private static async Task<List<TemplateResponse>> TemplatesAsync(Scenario scenario) =>
        (await scenario.Api.GetFromJsonAsync<List<TemplateResponse>>("/api/templates"))!;

    [Fact]
    public async Task ACatalogOfMoreTemplatesThanOnePageIsListedWhole()
    {
        await using var scenario = WithCatalog(redis);
        const int count = TemplateSync.PageSize * 2 + 37;
        for (var i = 0; i < count; i++) scenario.Stub.Catalog.Add(WhatsAppStub.WabaId, $"notice_{i:D3}", i % 2 == 0 ? "de" : "en_US", "Neu: {{1}} am {{2}}");
        // The host's start-up sync read the empty catalog already: count only this sync's pages.
        await Eventually.WaitAsync(() => Task.FromResult(PageReads(scenario)), n => n >= 1, TimeSpan.FromSeconds(10), "the start-up sync");
        scenario.Stub.Server.ResetLogEntries();

        Assert.Equal(count, await SyncAsync(scenario));

        var templates = await TemplatesAsync(scenario);
        Assert.Equal(count, templates.Count);
        Assert.Equal(count, templates.Select(t => (t.Name, t.Language)).Distinct().Count());
        Assert.All(templates, t => Assert.Equal(2, t.Parameters));
        // Three pages of 100: the sync followed paging.next to the end.
        Assert.Equal(3, PageReads(scenario));
    }

    private static int PageReads(Scenario scenario) =>
        scenario.Stub.Server.LogEntries.Count(e => e.RequestMessage.Path.EndsWith("/message_templates", StringComparison.Ordinal));

    [Fact]
    public async Task EachBadTemplateRequestIsA400NamingItsField()
    {
        await using var scenario = WithCatalog(redis);
        await scenario.AddEmployeesAsync(1);
        var catalog = scenario.Stub.Catalog;
        catalog.Add(WhatsAppStub.WabaId, "shift_notice", "de", "Schicht: {{1}}");
        catalog.Add(WhatsAppStub.WabaId, "paused_notice", "de", "Hinweis: {{1}}", status: TemplateStatus.Paused);
        catalog.Add(WhatsAppStub.WabaId, "safety_rules", "de", "Regeln: {{1}}", headerFormat: "DOCUMENT");
        await SyncAsync(scenario);

        await AssertRefusedAsync(scenario, new { name = "no_such_template", language = "de", parameters = new[] { "x" } }, "template.name", "not in the catalog");
        await AssertRefusedAsync(scenario, new { name = "shift_notice", language = "fr", parameters = new[] { "x" } }, "template.language", "exists in de");
        await AssertRefusedAsync(scenario, new { name = "paused_notice", language = "de", parameters = new[] { "x" } }, "template.name", TemplateStatus.Paused);
        await AssertRefusedAsync(scenario, new { name = "shift_notice", language = "de", parameters = new[] { "x", "y" } }, "template.parameters", "takes 1 parameters, 2 given");
        await AssertRefusedAsync(scenario, new { name = "safety_rules", language = "de", parameters = new[] { "x" } }, "template.header", "document header");
        await AssertRefusedAsync(scenario, new { name = "safety_rules", parameters = new[] { "x" }, header = new { mediaId = "123456" } }, "template.header", "unknown or expired");
        var media = await scenario.Api.PostAsJsonAsync("/api/announcements", new { message = "Regeln", media = new { id = "987654" } });
        await AssertFieldAsync(media, "media", "unknown or expired");

        // Right: a template without a language goes to each employee in theirs.
        var ok = await scenario.Api.PostAsJsonAsync("/api/announcements", new { template = new { name = "shift_notice", parameters = new[] { "Montag" } } });
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
    }

    [Fact]
    public async Task QualityCategoryAndStatusWebhooksShowInTheCatalog()
    {
        await using var scenario = WithCatalog(redis);
        scenario.Stub.Catalog.Add(WhatsAppStub.WabaId, "shift_notice", "de", "Schicht: {{1}}");
        await SyncAsync(scenario);

        await scenario.DeliverAsync(TemplateWebhook("message_template_quality_update", new { previous_quality_score = "GREEN", new_quality_score = "RED" }));
        await scenario.DeliverAsync(TemplateWebhook("template_category_update", new { previous_category = "UTILITY", new_category = "MARKETING" }));
        await scenario.DeliverAsync(TemplateWebhook("message_template_status_update", new { @event = TemplateStatus.Paused, reason = "LOW_QUALITY" }));

        var template = Assert.Single(await TemplatesAsync(scenario));
        Assert.Equal(("RED", "MARKETING", TemplateStatus.Paused), (template.QualityScore, template.Category, template.Status));
        await AssertRefusedAsync(scenario, new { name = "shift_notice", language = "de", parameters = new[] { "x" } }, "template.name", TemplateStatus.Paused);
    }

    [Fact]
    public async Task WithoutAWabaIdTemplatesAreNotChecked()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);

        var ok = await scenario.Api.PostAsJsonAsync("/api/announcements", new { template = new { name = "anything", language = "de", parameters = new[] { "x" } } });
        var noLanguage = await scenario.Api.PostAsJsonAsync("/api/announcements", new { template = new { name = "anything", parameters = new[] { "x" } } });

        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        await AssertFieldAsync(noLanguage, "template.language", "no template catalog");
        Assert.Empty(await TemplatesAsync(scenario));
    }

    [Fact]
    public async Task EachEmployeeGetsTheVariantInTheirLanguageElseTheEmployersElseTheFirstApproved()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["WhatsApp:WabaId"] = WhatsAppStub.WabaId,
            [$"Employers:acme:Language"] = "en",
        });
        foreach (var (language, body) in new[] { ("de", "Schicht: {{1}}"), ("en_US", "Shift: {{1}}"), ("fr", "Équipe : {{1}}") })
            scenario.Stub.Catalog.Add(WhatsAppStub.WabaId, "shift_notice", language, body);
        await SyncAsync(scenario);
        (string Id, string Phone, string? Language, string Expected)[] employees =
        [
            ("e1", "+16505551001", "de-DE", "de"), ("e2", "+16505551002", "de", "de"), ("e3", "+16505551003", "en-US", "en_US"),
            ("e4", "+16505551004", "fr", "fr"), ("e5", "+16505551005", null, "en_US"),
        ];
        foreach (var e in employees)
            (await scenario.Api.PutAsJsonAsync($"/api/employees/{e.Id}", new { phone = e.Phone, language = e.Language })).EnsureSuccessStatusCode();
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { template = new { name = "shift_notice", parameters = new[] { "Montag" } } });
        await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(60));

        Assert.All(employees, e => Assert.Equal(e.Expected,
            (string?)Assert.Single(scenario.Stub.Accepted, s => s.To == e.Phone).Body["template"]?["language"]?["code"]));
        // Recorded per delivery, in the JSON and the CSV.
        var deliveries = await scenario.GetDeliveriesAsync(id);
        Assert.All(employees, e => Assert.Equal(e.Expected, Assert.Single(deliveries, d => d.EmployeeId == e.Id).Language));
        var csv = (await scenario.Api.GetStringAsync($"/api/announcements/{id}/deliveries.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var column = Array.IndexOf(csv[0].Split(','), "language");
        Assert.Equal(employees.Select(e => e.Expected).Order(), csv.Skip(1).Select(l => l.Split(',')[column].Trim()).Order());
    }

    [Fact]
    public async Task ATemplatePausedAfterTwentyOfTwoHundredSendsPausesTheAnnouncementFailsNobodyAndCompletesOnceApproved()
    {
        var timeout = TimeSpan.FromSeconds(60);
        await using var scenario = WithCatalog(redis);
        var employees = await scenario.AddEmployeesAsync(200);
        scenario.Stub.Catalog.Add(WhatsAppStub.WabaId, "shift_notice", "de", "Schicht: {{1}}");
        await SyncAsync(scenario);
        await scenario.StartDispatchersAsync(1, new Dictionary<string, string?> { ["WhatsApp:MessagesPerSecond"] = "40" });

        var id = await scenario.CreateAnnouncementAsync(new { template = new { name = "shift_notice", language = "de", parameters = new[] { "Montag" } } });
        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Accepted.Count), n => n >= 20, timeout, "20 templates accepted");
        // Meta pauses the template for low quality: from now on its sends answer 132015, the same for everyone.
        scenario.Stub.Catalog.Set(WhatsAppStub.WabaId, "shift_notice", "de", "status", TemplateStatus.Paused);
        var paused = await scenario.WaitForStatusAsync(id, "paused", timeout);

        Assert.Equal(0, paused.Counts.Failed + paused.Counts.Unknown);
        var shown = JsonNode.Parse(await scenario.Api.GetStringAsync($"/api/announcements/{id}"))!;
        Assert.Equal(TemplateAvailability.Reason("shift_notice", TemplateStatus.Paused), shown["reason"]!.GetValue<string>());

        // Approved again: Meta's status webhook resumes it, and the rest get it once.
        scenario.Stub.Catalog.Set(WhatsAppStub.WabaId, "shift_notice", "de", "status", TemplateStatus.Approved);
        await scenario.DeliverAsync(TemplateWebhook("message_template_status_update", new { @event = TemplateStatus.Approved, reason = "NONE" }));
        var done = await scenario.WaitForStatusAsync(id, "completed", timeout);

        Assert.Equal(new Scenario.CountsView(200, 200, 0, 0, 0, 0, 0), done.Counts);
        Assert.All(employees, e => Assert.Single(scenario.Stub.Accepted, s => s.To == e.Phone));
    }

    private static byte[] TemplateWebhook(string field, object change)
    {
        var value = JsonSerializer.SerializeToNode(change)!.AsObject();
        value["message_template_id"] = 1234;
        value["message_template_name"] = "shift_notice";
        value["message_template_language"] = "de";
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            @object = "whatsapp_business_account",
            entry = new[] { new { id = WhatsAppStub.WabaId, time = 1751142888, changes = new[] { new { field, value } } } },
        });
    }

    private static async Task AssertRefusedAsync(Scenario scenario, object template, string field, string saying) =>
        await AssertFieldAsync(await scenario.Api.PostAsJsonAsync("/api/announcements", new { template }), field, saying);

    private static async Task AssertFieldAsync(HttpResponseMessage response, string field, string saying)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400 for {field}, got {(int)response.StatusCode}: {body}");
        var errors = JsonNode.Parse(body)!["errors"]!.AsObject();
        Assert.Equal([field], errors.Select(e => e.Key));
        Assert.Contains(saying, errors[field]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
