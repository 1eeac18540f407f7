using System.Net;
using System.Text.Json.Nodes;
using Bot.Tests.Harness;

namespace Bot.Tests.Hosting;

/// <summary>The employer API's OpenAPI document and its Scalar reference, served by the webhook host without a key.</summary>
public sealed class ApiDocsTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task OpenApiDocumentListsTheEmployerRoutesWithTheApiKeySchemeAndLeavesTheWebhookOut()
    {
        await using var scenario = new Scenario(redis);
        using var anonymous = scenario.ClientFor(apiKey: null);

        var response = await anonymous.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var paths = document["paths"]!.AsObject();
        Assert.Equal(
            [
                "/api/announcements", "/api/announcements/occurrences/preview", "/api/announcements/preview", "/api/announcements/{id}",
                "/api/announcements/{id}/deliveries", "/api/announcements/{id}/deliveries.csv", "/api/announcements/{id}/occurrences",
                "/api/announcements/{id}/resume", "/api/announcements/{id}/retry", "/api/announcements/{id}/unacknowledged", "/api/audit",
                "/api/employees", "/api/employees/import", "/api/employees/{employeeId}", "/api/employees/{employeeId}/join-code",
                "/api/employer", "/api/media", "/api/templates", "/api/webhooks", "/api/webhooks/attempts", "/api/webhooks/replay",
                "/api/webhooks/rotate-secret", "/send_announcement",
            ],
            paths.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(paths, p => p.Key.StartsWith("/webhook") || p.Key.StartsWith("/health") || p.Key == "/metrics");

        var scheme = document["components"]!["securitySchemes"]!["ApiKey"]!;
        Assert.Equal("apiKey", scheme["type"]!.GetValue<string>());
        Assert.Equal("header", scheme["in"]!.GetValue<string>());
        Assert.Equal("X-Api-Key", scheme["name"]!.GetValue<string>());
        Assert.NotNull(document["security"]![0]!["ApiKey"]);

        // Every operation says what it does; the README's examples are in the document.
        Assert.All(paths.SelectMany(p => p.Value!.AsObject()), op => Assert.False(string.IsNullOrWhiteSpace(op.Value!["summary"]?.GetValue<string>()), op.Key));
        var create = paths["/api/announcements"]!["post"]!;
        Assert.Equal("Our end of year party is on Saturday evening!",
            create["requestBody"]!["content"]!["application/json"]!["examples"]!["textNow"]!["value"]!["message"]!.GetValue<string>());
        Assert.Equal("scheduled", create["responses"]!["202"]!["content"]!["application/json"]!["example"]!["status"]!.GetValue<string>());
        Assert.Equal("+16505551234", paths["/api/employees/{employeeId}"]!["put"]!["responses"]!["201"]!["content"]!["application/json"]!["example"]!["phone"]!.GetValue<string>());
    }

    [Fact]
    public async Task ScalarReferenceIsServedAsHtmlWithItsScriptsAndWithoutThePortalsPolicy()
    {
        await using var scenario = new Scenario(redis);
        using var anonymous = scenario.ClientFor(apiKey: null);

        var page = await anonymous.GetAsync("/scalar/v1");
        var script = await anonymous.GetAsync("/scalar/scalar.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<div id=\"app\"></div>", html);
        Assert.Contains("openapi/v1.json", html);
        // Scalar's page runs an inline module; the portal's script-src 'self' must not reach it.
        Assert.False(page.Headers.Contains("Content-Security-Policy"));
        // Served by the host itself, not a CDN: the reference works offline and behind a strict egress policy.
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        // The portal keeps its policy.
        var portal = await anonymous.GetAsync("/");
        Assert.Contains("script-src 'self'", string.Join(";", portal.Headers.GetValues("Content-Security-Policy")));
    }
}
