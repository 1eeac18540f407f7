using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Core.Tenants;
using Bot.Tests.Harness;
using Bot.Webhook.Admin;

namespace Bot.Tests.Admin;

/// <summary>The operator API's rules: its key, bad input named and not stored, configuration read-only, other employers' things unknown.</summary>
public sealed class OperatorApiTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private const string AdminKey = "operator-api-key-0123456789-abcdefgh";

    private static Scenario WithAdmin(SharedRedis redis) => new(redis, new Dictionary<string, string?> { [AdminOptions.ApiKeyPath] = AdminKey });

    private static HttpClient Admin(Scenario scenario, string key = AdminKey)
    {
        var client = scenario.ClientFor(null);
        client.DefaultRequestHeaders.Add(AdminKeyFilter.HeaderName, key);
        return client;
    }

    [Fact]
    public async Task WithoutAnAdminKeyEveryAdminRouteIsNotFoundAndAWrongKeyIsUnauthorized()
    {
        await using (var off = new Scenario(redis))
        {
            using var client = Admin(off);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/admin/senders")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.PutAsJsonAsync("/admin/employers/x", new { name = "X", sender = "default" })).StatusCode);
        }
        await using var on = WithAdmin(redis);
        using var wrong = Admin(on, AdminKey + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/admin/senders")).StatusCode);
        using var none = on.ClientFor(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await none.GetAsync("/admin/audit")).StatusCode);
    }

    [Fact]
    public async Task BadInputIsRefusedNamingTheFieldAndNothingIsStored()
    {
        await using var scenario = WithAdmin(redis);
        using var admin = Admin(scenario);

        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/senders/s1", new { phoneNumberId = "12a", accessToken = "t" }), "phoneNumberId");
        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/senders/s1", new { phoneNumberId = "123" }), "accessToken");
        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/senders/s1", new { phoneNumberId = "123", accessToken = "t", messagesPerSecond = 0 }), "messagesPerSecond");
        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/senders/s1", new { phoneNumberId = WhatsAppStub.PhoneNumberId, accessToken = "t" }), "phoneNumberId");
        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/portfolios/p1", new { messagingLimit = 300 }), "messagingLimit");
        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/employers/globex", new { name = "Globex", sender = "nope" }), "sender");
        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/employers/globex", new { name = "Globex", sender = "default", timeZone = "Mars/Olympus" }), "timeZone");
        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/employers/globex", new { name = "Globex", sender = "default", quietHours = "21:00-21:00" }), "quietHours");
        await AssertFieldAsync(admin.PutAsJsonAsync("/admin/employers/globex", new { name = "Globex", sender = "default", fallbackTemplate = new { name = "t" } }), "fallbackTemplate.language");

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/senders/s1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/employers/globex")).StatusCode);
        Assert.False(await scenario.Redis.KeyExistsAsync(TenantKeys.Version));
        Assert.False(await scenario.Redis.KeyExistsAsync(TenantKeys.Audit));
    }

    [Fact]
    public async Task ConfigurationTenantsAreReadOnlyAndShownAsConfiguration()
    {
        await using var scenario = WithAdmin(redis);
        using var admin = Admin(scenario);

        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync("/admin/senders/default", new { phoneNumberId = "123", accessToken = "t" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync($"/admin/employers/{scenario.EmployerId}", new { name = "Acme", sender = "default" })).StatusCode);
        var sender = (await admin.GetFromJsonAsync<JsonNode>("/admin/senders/default"))!;
        Assert.Equal((WhatsAppStub.PhoneNumberId, SendersAdminApi.FromConfiguration), (sender["phoneNumberId"]!.GetValue<string>(), sender["source"]!.GetValue<string>()));
        var employers = (await admin.GetFromJsonAsync<JsonArray>("/admin/employers"))!;
        Assert.Equal([(scenario.EmployerId, "configuration"), ("other", "configuration")],
            employers.Select(e => (e!["id"]!.GetValue<string>(), e["source"]!.GetValue<string>())));
    }

    [Fact]
    public async Task AnotherEmployersKeyIsNotFoundAndRefusedWritesAreNotAudited()
    {
        await using var scenario = WithAdmin(redis);
        using var admin = Admin(scenario);
        var issued = await (await admin.PostAsJsonAsync($"/admin/employers/{scenario.EmployerId}/api-keys", new { name = "ci" })).Content.ReadFromJsonAsync<IssuedKey>();
        Assert.StartsWith(EmployersAdminApi.KeyPrefix, issued!.Key);
        Assert.True(issued.Key.Length >= EmployersAdminApi.KeyPrefix.Length + 43); // 256 bits in base64url

        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/admin/employers/other/api-keys/{issued.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/admin/employers/nobody/api-keys", new { })).StatusCode);
        using var withIssued = scenario.ClientFor(issued.Key);
        Assert.Equal(HttpStatusCode.BadRequest, (await withIssued.PutAsJsonAsync("/api/employees/e1", new { phone = "nope" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await withIssued.PutAsJsonAsync("/api/employees/e1", new { phone = "+16505550101" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await withIssued.PostAsJsonAsync("/api/announcements/preview", new { message = "hi" })).StatusCode);

        var own = (await withIssued.GetFromJsonAsync<JsonNode>("/api/audit"))!["items"]!.AsArray();
        Assert.Equal([($"key:{issued.Id}", "employee.put", "e1"), (AuditActor.Admin, "apikey.issue", issued.Id)],
            own.Select(e => (e!["actor"]!.GetValue<string>(), e["action"]!.GetValue<string>(), e["target"]!.GetValue<string>())));
        using var other = scenario.ClientFor(Scenario.OtherApiKey);
        Assert.Empty((await other.GetFromJsonAsync<JsonNode>("/api/audit"))!["items"]!.AsArray());
    }

    private static async Task AssertFieldAsync(Task<HttpResponseMessage> call, string field)
    {
        var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}: {(int)response.StatusCode} {body}");
        Assert.NotNull(JsonNode.Parse(body)!["errors"]![field]);
    }
}
