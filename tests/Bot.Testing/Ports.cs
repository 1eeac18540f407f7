using System.Net;
using System.Net.Sockets;

namespace Bot.Testing;

public static class Ports
{
    /// <summary>
    /// A loopback port nobody listened on a moment ago. Another process may take it before the caller binds it;
    /// callers that start a server retry on a new one (see <see cref="RedisServer"/>).
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
