using System.Net;
using System.Net.Sockets;

namespace Bot.Webhook.Events;

/// <summary>
/// Where events may be sent. An endpoint URL is chosen by a customer and requested from inside our network, so it must
/// not reach our own services (server-side request forgery): https only, and no loopback, private or link-local address,
/// checked when the URL is registered and again on every connection (a name may resolve elsewhere by then).
/// </summary>
public static class EndpointUrls
{
    /// <summary>Why <paramref name="url"/> is refused, or null when it may be registered.</summary>
    public static async Task<string?> CheckAsync(string? url, EventsOptions options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(url)) return "url is required.";
        if (url.Length > 2048) return "url is longer than 2048 characters.";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host)) return "url must be an absolute URL.";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "url must not carry a user name or password.";
        if (uri.Scheme == Uri.UriSchemeHttp)
        {
            if (!options.AllowHttp) return "url must be https.";
            if (!uri.IsLoopback) return "url must be https (http only to a loopback address).";
        }
        else if (uri.Scheme != Uri.UriSchemeHttps) return "url must be https.";

        IPAddress[] addresses;
        try { addresses = await ResolveAsync(uri.DnsSafeHost, cancellationToken); }
        catch (SocketException) { return $"url's host '{uri.Host}' does not resolve."; }
        if (addresses.Length == 0) return $"url's host '{uri.Host}' does not resolve.";
        return addresses.FirstOrDefault(a => !IsAllowed(a, options)) is { } refused
            ? $"url's host '{uri.Host}' is a private or local address ({refused}), which events are not sent to."
            : null;
    }

    /// <summary>Whether a connection to <paramref name="address"/> may be made (an http endpoint was checked to be loopback).</summary>
    public static bool IsAllowed(IPAddress address, EventsOptions options)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return options.AllowHttp || options.AllowPrivateNetworks;
        return options.AllowPrivateNetworks || !IsPrivate(address);
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);

    private static bool IsPrivate(IPAddress address)
    {
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            // Unique local (fc00::/7), link- and site-local.
            return (address.GetAddressBytes()[0] & 0xFE) == 0xFC || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast;
        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) || b[0] >= 224;
    }

    /// <summary>
    /// The handler every POST goes through: resolves the host itself and connects only to an allowed address, so a name
    /// that resolved to a public address at registration cannot be pointed at an internal one later; redirects are not
    /// followed (a redirect is the other way to send the request elsewhere).
    /// </summary>
    public static SocketsHttpHandler Handler(Func<EventsOptions> options) => new()
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var addresses = await ResolveAsync(context.DnsEndPoint.Host, cancellationToken);
            var allowed = addresses.Where(a => IsAllowed(a, options())).ToArray();
            if (allowed.Length == 0) throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves to no address events may be sent to.");
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
