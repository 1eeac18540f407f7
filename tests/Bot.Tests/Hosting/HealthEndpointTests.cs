using System.Net;
using System.Text.Json.Nodes;
using Bot.Core.Redis;
using Bot.Hosting;
using Bot.Tests.Harness;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.Hosting;

/// <summary>/health/live and /health/ready on the webhook host and on a standalone dispatcher's probe port.</summary>
public sealed class HealthEndpointTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task WebhookHostIsLiveAndReadyWithRedisUp()
    {
        await using var scenario = new Scenario(redis);
        using var client = scenario.ClientFor(apiKey: null);

        var live = await client.GetAsync("/health/live");
        var ready = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal("Healthy", body["checks"]!["redis"]!["status"]!.GetValue<string>());
        Assert.Equal("Healthy", body["checks"]!["whatsapp"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task WebhookHostIsLiveButNotReadyWithRedisUnreachable()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = UnreachableRedis(),
        });
        using var client = scenario.ClientFor(apiKey: null);

        var live = await client.GetAsync("/health/live");
        var ready = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal("Unhealthy", body["checks"]!["redis"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task StandaloneDispatcherProbeIsLiveAndReadyWithRedisUp()
    {
        var port = Ports.Free();
        using var host = await StartDispatcherAsync(redis.ConnectionString, port);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var live = await client.GetAsync(HealthEndpoints.LivePath);
        var ready = await client.GetAsync(HealthEndpoints.ReadyPath);
        var unknown = await client.GetAsync("/nothing-here");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        await host.StopAsync();
    }

    [Fact]
    public async Task StandaloneDispatcherProbeIsNotReadyWithRedisUnreachable()
    {
        var port = Ports.Free();
        using var host = await StartDispatcherAsync(UnreachableRedis(), port);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var live = await client.GetAsync(HealthEndpoints.LivePath);
        var ready = await client.GetAsync(HealthEndpoints.ReadyPath);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        await host.StopAsync();
    }

    /// <summary>Bot.Scheduler's Program, with <c>Dispatcher:HealthPort</c> set.</summary>
    private static async Task<IHost> StartDispatcherAsync(string redisConnection, int healthPort)
    {
        var host = DispatcherHosts.Build(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redisConnection,
            [RedisKeyspace.ConfigurationKey] = SharedRedis.NewKeyPrefix(),
            ["WhatsApp:BaseUrl"] = "http://127.0.0.1:9",
            ["WhatsApp:PhoneNumberId"] = WhatsAppStub.PhoneNumberId,
            ["WhatsApp:AccessToken"] = WhatsAppStub.AccessToken,
            ["Dispatcher:HealthPort"] = healthPort.ToString(),
            // Nothing is scheduled; keep the loop quiet while the probe is asked.
            ["Dispatcher:PollInterval"] = "00:00:01",
        });
        await host.StartAsync();
        return host;
    }

    /// <summary>A loopback port nobody listens on, with a short connect timeout so the host starts quickly.</summary>
    private static string UnreachableRedis() => $"127.0.0.1:{Ports.Free()},abortConnect=false,connectTimeout=200";
}
