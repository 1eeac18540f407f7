using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json;
using Bot.Tools.WhatsAppStub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bot.Bench.Infrastructure;

/// <summary>
/// The shipped stub's accepted send (<see cref="AcceptedSend"/>: same JSON, same 58-character wamids) on bare Kestrel,
/// recording when each send arrived and for whom. Counting sends per <c>to</c> is how the bench detects a duplicate:
/// every scenario sends each phone at most one message. Why not the stub itself: WireMock's request pipeline costs
/// about 1 ms of CPU per request (scenario 8 measures it), so on 2 cores it would cap a fan-out near 1,000/s and the
/// bench would measure the stub; this stand-in costs a few microseconds.
/// </summary>
public sealed class WhatsAppStandIn : IAsyncDisposable
{
    private readonly WebApplication app;
    private ConcurrentDictionary<string, int> perRecipient = new();
    private ConcurrentDictionary<string, long> firstByAnnouncement = new();
    private long[] arrivals = new long[1024];
    private int[] numbers = new int[1024];
    private readonly ConcurrentDictionary<string, int> numberIndex = new(StringComparer.Ordinal);
    private int numbersSeen;
    private int count;

    private WhatsAppStandIn(WebApplication app) => this.app = app;

    public string Url { get; private set; } = "";

    public static async Task<WhatsAppStandIn> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var standIn = new WhatsAppStandIn(app);
        app.MapPost("/{version}/{phoneNumberId}/messages", standIn.HandleAsync);
        await app.StartAsync();
        standIn.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return standIn;
    }

    /// <summary>Forgets every send so far; <paramref name="expected"/> sizes the arrival log.</summary>
    public void Reset(int expected)
    {
        perRecipient = new ConcurrentDictionary<string, int>();
        firstByAnnouncement = new ConcurrentDictionary<string, long>();
        arrivals = new long[Math.Max(1024, expected * 2)];
        numbers = new int[arrivals.Length];
        Volatile.Write(ref count, 0);
    }

    public int Count => Volatile.Read(ref count);

    public SendLog Snapshot()
    {
        var n = Math.Min(Count, arrivals.Length);
        var times = arrivals.AsSpan(0, n).ToArray();
        var from = numbers.AsSpan(0, n).ToArray();
        Array.Sort(times, from);
        return new SendLog(times, new Dictionary<string, int>(perRecipient), new Dictionary<string, long>(firstByAnnouncement)) { Numbers = from };
    }

    /// <summary>UTC ticks of the first send carrying this announcement id in biz_opaque_callback_data.</summary>
    public long? FirstSendOf(string announcementId) =>
        firstByAnnouncement.TryGetValue(announcementId, out var t) ? t : null;

    private async Task HandleAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync();
            if (read.IsCompleted) break;
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
        var (to, callback) = Parse(read.Buffer);
        reader.AdvanceTo(read.Buffer.End);
        var now = DateTime.UtcNow.Ticks;

        if (to is null)
        {
            context.Response.StatusCode = 400;
            return;
        }
        var slot = Interlocked.Increment(ref count) - 1;
        var (log, from) = (arrivals, numbers);
        if (slot < log.Length && slot < from.Length)
        {
            log[slot] = now;
            from[slot] = numberIndex.GetOrAdd((string)context.Request.RouteValues["phoneNumberId"]!, _ => Interlocked.Increment(ref numbersSeen));
        }
        perRecipient.AddOrUpdate(to, 1, static (_, n) => n + 1);
        if (callback is not null)
        {
            var colon = callback.IndexOf(':');
            var announcementId = colon > 0 ? callback[..colon] : callback;
            firstByAnnouncement.AddOrUpdate(announcementId, now, (_, t) => Math.Min(t, now));
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(AcceptedSend.Body(to)));
    }

    private static (string? To, string? Callback) Parse(ReadOnlySequence<byte> body)
    {
        var json = new Utf8JsonReader(body);
        string? to = null, callback = null;
        while (json.Read())
        {
            if (json.TokenType != JsonTokenType.PropertyName || json.CurrentDepth != 1) continue;
            if (json.ValueTextEquals("to"u8))
            {
                json.Read();
                to = json.GetString();
            }
            else if (json.ValueTextEquals("biz_opaque_callback_data"u8))
            {
                json.Read();
                callback = json.GetString();
            }
            else
            {
                json.Read();
                json.TrySkip();
            }
        }
        return (to, callback);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>What the stand-in saw: sorted arrival times (UTC ticks), sends per recipient, first send per announcement.</summary>
public sealed record SendLog(long[] Arrivals, Dictionary<string, int> PerRecipient, Dictionary<string, long> FirstByAnnouncement)
{
    public int Total => Arrivals.Length;

    /// <summary>Which WhatsApp number (phone-number id, a number of its own per id) each of <see cref="Arrivals"/> was sent from.</summary>
    public int[] Numbers { get; init; } = [];

    /// <summary>The most sends from one number within any one-second window: what WhatsApp's per-number cap is about.</summary>
    public int LargestOneSecondWindowOfANumber() =>
        Numbers.Length == 0 ? 0 : Arrivals.Select((t, i) => (t, Number: Numbers[i])).GroupBy(a => a.Number)
            .Max(g => (this with { Arrivals = [.. g.Select(a => a.t)] }).LargestOneSecondWindow());

    /// <summary>Sends beyond the first to the same phone.</summary>
    public int Duplicates => PerRecipient.Values.Sum(n => n - 1);

    /// <summary>The most sends that arrived within any one-second window (sliding, not aligned to clock seconds).</summary>
    public int LargestOneSecondWindow()
    {
        var best = 0;
        var start = 0;
        for (var end = 0; end < Arrivals.Length; end++)
        {
            while (Arrivals[end] - Arrivals[start] >= TimeSpan.TicksPerSecond) start++;
            best = Math.Max(best, end - start + 1);
        }
        return best;
    }
}
