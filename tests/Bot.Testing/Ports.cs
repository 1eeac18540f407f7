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

    /// <summary>
    /// A free port P whose cluster bus port P + 10000 is free too (a Redis Cluster node listens on both), so P is
    /// at most 55535.
    /// </summary>
    public static int FreeWithClusterBus()
    {
        while (true)
        {
            var port = Free();
            if (port + ClusterBusOffset <= IPEndPoint.MaxPort && IsFree(port + ClusterBusOffset)) return port;
        }
    }

    public const int ClusterBusOffset = 10000;

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
