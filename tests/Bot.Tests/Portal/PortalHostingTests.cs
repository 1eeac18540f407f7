using System.Net;
using Bot.Tests.Harness;

namespace Bot.Tests.Portal;

/// <summary>The portal is static files at / and /portal/*, next to the JSON API and never in its way.</summary>
public sealed class PortalHostingTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task ThePageIsServedAtTheRootWithAStrictContentSecurityPolicy()
    {
        await using var scenario = new Scenario(redis);
        using var anonymous = scenario.ClientFor(null);

        var page = await anonymous.GetAsync("/");
        var script = await anonymous.GetAsync("/portal/app.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/api/employees")]
    [InlineData("/api/announcements")]
    public async Task TheApiStillNeedsItsKeyBesideThePortal(string path)
    {
        await using var scenario = new Scenario(redis);
        using var anonymous = scenario.ClientFor(null);

        var response = await anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
