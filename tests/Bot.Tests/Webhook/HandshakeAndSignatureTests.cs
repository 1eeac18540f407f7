using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bot.Tests.Harness;
using Bot.Webhook.Webhook;

namespace Bot.Tests.Webhook;

public sealed class HandshakeAndSignatureTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task HandshakeEchoesTheChallengeOnlyForTheRightToken()
    {
        await using var scenario = new Scenario(redis);
        using var meta = scenario.ClientFor(null);

        var verified = await meta.GetAsync($"/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={Meta.VerifyToken}");
        var textChallenge = await meta.GetAsync($"/webhook?hub.mode=subscribe&hub.challenge=0042-abc&hub.verify_token={Meta.VerifyToken}");
        var wrongToken = await meta.GetAsync("/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess");
        var wrongMode = await meta.GetAsync($"/webhook?hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token={Meta.VerifyToken}");
        var noToken = await meta.GetAsync("/webhook?hub.mode=subscribe&hub.challenge=1158201444");

        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        Assert.Equal("1158201444", await verified.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", verified.Content.Headers.ContentType?.MediaType);
        // A string, not an int: leading zeros and letters come back as sent.
        Assert.Equal("0042-abc", await textChallenge.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, wrongToken.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrongMode.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, noToken.StatusCode);
        Assert.DoesNotContain("1158201444", await wrongToken.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OnlyBodiesSignedWithTheAppSecretAreAcceptedInEitherHexCase()
    {
        await using var scenario = new Scenario(redis);
        var employee = (await scenario.AddEmployeesAsync(1))[0];
        var stop = Meta.InboundText(employee.Phone, "STOP");
        var signature = Meta.Sign(stop);
        var altered = (byte[])stop.Clone();
        altered[Array.IndexOf(altered, (byte)'P', Encoding.UTF8.GetString(stop).IndexOf("STOP", StringComparison.Ordinal))] = (byte)'Q';
        var reserialised = Encoding.UTF8.GetBytes(JsonNode.Parse(stop)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var keysBefore = Keys(scenario);

        var missing = await scenario.PostAsync(stop, null);
        var wrongSecret = await scenario.PostAsync(stop, Meta.Sign(stop, "not-the-app-secret"));
        var oneByteAltered = await scenario.PostAsync(altered, signature);
        var reserialisedJson = await scenario.PostAsync(reserialised, signature);

        Assert.All([missing, wrongSecret, oneByteAltered, reserialisedJson], r =>
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        });
        Assert.Equal(keysBefore, Keys(scenario));
        Assert.Equal("active", (await scenario.GetEmployeeAsync(employee.Id)).Status);
        Assert.Empty(scenario.Stub.Sends);

        var lowercase = await scenario.PostAsync(stop, signature);
        Assert.Equal(HttpStatusCode.OK, lowercase.StatusCode);
        await scenario.WaitForInboxProcessedAsync();
        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync(employee.Id)).Status);

        var start = Meta.InboundText(employee.Phone, "START");
        var uppercase = await scenario.PostAsync(start, Meta.Sign(start, upperCase: true));
        Assert.Equal(HttpStatusCode.OK, uppercase.StatusCode);
        await scenario.WaitForInboxProcessedAsync();
        Assert.Equal("active", (await scenario.GetEmployeeAsync(employee.Id)).Status);
        var replies = await scenario.WaitForSendsToAsync(employee.Phone, 2);
        Assert.Equal([BotConversation.StoppedText, BotConversation.StartedText], replies.Select(r => r.Text));
    }

    private static List<string> Keys(Scenario scenario) =>
        [.. Server(scenario).Keys(pattern: scenario.KeyPrefix + "*", pageSize: 1000).Select(k => (string)k!).Order()];

    private static StackExchange.Redis.IServer Server(Scenario scenario)
    {
        var multiplexer = scenario.Redis.Multiplexer;
        return multiplexer.GetServer(multiplexer.GetEndPoints()[0]);
    }
}
