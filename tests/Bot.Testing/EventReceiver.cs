using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bot.Testing;

/// <summary>One POST an endpoint received, and what it answered.</summary>
public sealed record ReceivedEvent(string Id, string Timestamp, string Signature, string Body, int Answered);

/// <summary>
/// A real HTTP endpoint on a free loopback port (Kestrel), recording every POST; <see cref="Answer"/> says what it replies,
/// so a test can take it "down" (5xx) and bring it back.
/// </summary>
public sealed class EventReceiver : IAsyncDisposable
{
    private readonly WebApplication app;

    public ConcurrentQueue<ReceivedEvent> Received { get; } = new();

    public volatile int Answer = 200;

    /// <summary>While not completed, every request waits here before it is recorded (a hanging endpoint).</summary>
    private volatile TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Requests that reached the endpoint, including those still held (<see cref="Hold"/>).</summary>
    public int Arrived => arrived;

    private int arrived;

    public string Url { get; }

    /// <param name="listening">false: the port is chosen but nothing listens on it (connections are refused) until
    /// <see cref="StartAsync"/>.</param>
    public EventReceiver(bool listening = true)
    {
        gate.SetResult();
        var port = Ports.Free();
        Url = $"http://127.0.0.1:{port}/events";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        app = builder.Build();
        app.MapPost("/events", async (HttpRequest request) =>
        {
            Interlocked.Increment(ref arrived);
            await gate.Task.WaitAsync(request.HttpContext.RequestAborted);
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var answer = Answer;
            Received.Enqueue(new ReceivedEvent(request.Headers["webhook-id"].ToString(), request.Headers["webhook-timestamp"].ToString(),
                request.Headers["webhook-signature"].ToString(), body, answer));
            return Results.StatusCode(answer);
        });
        if (listening) app.StartAsync().GetAwaiter().GetResult();
    }

    public Task StartAsync() => app.StartAsync();

    /// <summary>Makes requests hang until <see cref="Release"/>.</summary>
    public void Hold() => gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => gate.TrySetResult();

    /// <summary>The events answered with 2xx, one per webhook-id.</summary>
    public IReadOnlyList<ReceivedEvent> Delivered =>
        [.. Received.Where(r => r.Answered is >= 200 and < 300).GroupBy(r => r.Id).Select(g => g.First())];

    public async ValueTask DisposeAsync()
    {
        Release();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>
    /// Verifies a signature as the Standard Webhooks spec describes it, written here rather than with the library that
    /// signs: base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed with the bytes after <c>whsec_</c>, in a
    /// space-separated list of "v1,&lt;signature&gt;".
    /// </summary>
    public static bool Verifies(ReceivedEvent e, string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{e.Id}.{e.Timestamp}.{e.Body}")));
        return e.Signature.Split(' ').Any(s => s == "v1," + expected);
    }
}
