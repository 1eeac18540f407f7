using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.Portal;

/// <summary>
/// The webhook host on a real loopback port, configured like the scenario's in-memory one: a browser cannot
/// reach WebApplicationFactory's TestServer, so the portal tests serve the same Program through Kestrel.
/// </summary>
public sealed class PortalServer : WebApplicationFactory<Program>
{
    private readonly IDictionary<string, string?> settings;

    private PortalServer(IDictionary<string, string?> settings, int port)
    {
        this.settings = settings;
        UseKestrel(options => options.Listen(IPAddress.Loopback, port));
    }

    /// <summary>Base address such as http://127.0.0.1:41234/.</summary>
    public Uri Url { get; private set; } = null!;

    /// <param name="port">0 for any free one; a fixed one when something must know the address first (the stub's webhook URL).</param>
    public static PortalServer Start(IDictionary<string, string?> settings, int port = 0)
    {
        var server = new PortalServer(settings, port);
        server.StartServer();
        var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Url = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }
}
