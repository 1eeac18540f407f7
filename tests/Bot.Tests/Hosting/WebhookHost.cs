using System.Net.Http.Headers;
using Bot.Tests.Webhook;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.Hosting;

/// <summary>
/// The webhook host with a scenario's settings, for tests that need what the scenario's own host cannot give:
/// the dispatcher embedded (<c>Dispatcher:Enabled</c> is read by Program before <c>Build()</c>) or a logger of
/// the test's own.
/// </summary>
public sealed class WebhookHost(IDictionary<string, string?> settings, ILoggerProvider? logs = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // UseSetting reaches Program as host configuration, before Build(); ConfigureAppConfiguration would only
        // apply at Build(), too late for Program's own look at Dispatcher:Enabled.
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging =>
        {
            if (logs is null)
            {
                logging.SetMinimumLevel(LogLevel.Warning);
                return;
            }
            // Only the test's logger, at whatever levels the settings' Logging section asks for.
            logging.ClearProviders();
            logging.AddProvider(logs);
        });
    }

    public HttpClient ClientFor(string? apiKey)
    {
        var client = CreateClient();
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>POSTs a body signed like Meta's to /webhook and expects 200.</summary>
    public async Task DeliverAsync(byte[] body)
    {
        using var client = CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Hub-Signature-256", Meta.Sign(body));
        var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"POST /webhook: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
