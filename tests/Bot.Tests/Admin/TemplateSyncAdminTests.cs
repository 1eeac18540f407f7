using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Tests.Harness;
using Bot.Webhook.Admin;

namespace Bot.Tests.Admin;

/// <summary><c>POST /admin/senders/{id}/templates/sync</c>: the operator reads a sender's catalog from WhatsApp at once.</summary>
public sealed class TemplateSyncAdminTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private const string AdminKey = "operator-api-key-0123456789-abcdefgh";

    [Fact]
    public async Task TheOperatorSyncsASendersTemplatesAndTheEmployerSeesThem()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            [AdminOptions.ApiKeyPath] = AdminKey,
            ["WhatsApp:WabaId"] = WhatsAppStub.WabaId,
        });
        using var admin = scenario.ClientFor(null);
        admin.DefaultRequestHeaders.Add(AdminKeyFilter.HeaderName, AdminKey);
        scenario.Stub.Catalog.Add(WhatsAppStub.WabaId, "shift_notice", "en_US", "Your shift: {{1}}");
        scenario.Stub.Catalog.Add(WhatsAppStub.WabaId, "shift_notice", "de", "Deine Schicht: {{1}}");

        var sync = await admin.PostAsync("/admin/senders/default/templates/sync", null);

        Assert.Equal(HttpStatusCode.OK, sync.StatusCode);
        var body = (await sync.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(("default", 2), (body["sender"]!.GetValue<string>(), body["count"]!.GetValue<int>()));
        var templates = (await scenario.Api.GetFromJsonAsync<JsonArray>("/api/templates"))!;
        Assert.Equal(["de", "en_US"], templates.Select(t => t!["language"]!.GetValue<string>()).Order());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/admin/senders/nobody/templates/sync", null)).StatusCode);
        using var anonymous = scenario.ClientFor(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/admin/senders/default/templates/sync", null)).StatusCode);
    }
}
