using System.Net;
using Bot.Webhook.Events;

namespace Bot.Tests.Events;

/// <summary>Where events may go, address by address, and the retry schedule's bounds.</summary>
public sealed class EndpointUrlTests
{
    [Theory]
    [InlineData("203.0.113.7", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    public void OnlyPublicAddressesAreAllowedByDefault(string address, bool allowed)
    {
        Assert.Equal(allowed, EndpointUrls.IsAllowed(IPAddress.Parse(address), new EventsOptions()));
        // Private networks allowed: everything is.
        Assert.True(EndpointUrls.IsAllowed(IPAddress.Parse(address), new EventsOptions { AllowPrivateNetworks = true }));
    }

    [Fact]
    public void AllowHttpOpensLoopbackOnly()
    {
        var options = new EventsOptions { AllowHttp = true };
        Assert.True(EndpointUrls.IsAllowed(IPAddress.Loopback, options));
        Assert.False(EndpointUrls.IsAllowed(IPAddress.Parse("10.0.0.1"), options));
    }

    [Fact]
    public async Task HttpIsRefusedToAnythingButLoopbackEvenWhenAllowed()
    {
        var options = new EventsOptions { AllowHttp = true };
        Assert.Null(await EndpointUrls.CheckAsync("http://127.0.0.1:5000/in", options, CancellationToken.None));
        Assert.NotNull(await EndpointUrls.CheckAsync("http://203.0.113.7/in", options, CancellationToken.None));
        Assert.NotNull(await EndpointUrls.CheckAsync("http://127.0.0.1:5000/in", new EventsOptions(), CancellationToken.None));
    }

    [Fact]
    public void BackOffDoublesWithJitterUpToTheCap()
    {
        var options = new EventsOptions { FirstRetryDelay = TimeSpan.FromSeconds(5), MaxRetryDelay = TimeSpan.FromMinutes(1) };
        for (var attempt = 1; attempt <= 40; attempt++)
        {
            var full = Math.Min(5 * Math.Pow(2, attempt - 1), 60);
            var delay = EventDelivery.BackOff(attempt, options).TotalSeconds;
            Assert.InRange(delay, full / 2, full);
        }
    }
}
