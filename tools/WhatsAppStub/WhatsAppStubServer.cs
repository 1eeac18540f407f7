using System.Buffers;
using System.Collections.Specialized;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Bot.Tools.WhatsAppStub;

/// <summary>How to start a <see cref="WhatsAppStubServer"/>.</summary>
public sealed record WhatsAppStubOptions
{
    /// <summary>0 picks a free loopback port (tests, bench).</summary>
    public int Port { get; init; }

    public string MappingsFolder { get; init; } = StubSettings.DefaultMappingsFolder;

    /// <summary>Also load <c>mappings/faults/*.json</c>.</summary>
    public bool Faults { get; init; }

    /// <summary>Listen on every interface so other containers can reach it; tests and the bench stay on loopback.</summary>
    public bool BindAllInterfaces { get; init; }

    /// <summary>
    /// Requests kept for <c>GET /__admin/requests</c>; older ones are dropped so a long run cannot grow the stub without
    /// bound. Null keeps every request: tests read the whole log.
    /// </summary>
    public int? MaxRequestLogCount { get; init; } = WhatsAppStubServer.DefaultMaxRequestLogCount;
}

/// <summary>
/// WireMock.Net standing in for the WhatsApp Cloud API, started by the tool (run.sh, compose), by the tests and by the
/// bench. Behaviour lives in the JSON mappings so testers change it without code; a mapping whose <c>Data.answer</c> is
/// <c>"code"</c> keeps its request matching, status, headers and delay from the file and has its body built by
/// <see cref="AcceptedSend"/> instead of the Handlebars template (which serves about 25 requests/s). Code-defined
/// route: <c>GET /stub/received</c>, per-recipient counts kept as sends arrive.
/// </summary>
public sealed class WhatsAppStubServer : IDisposable
{
    /// <summary>The phone number id run.sh, compose, the tests and the bench configure (any id is answered).</summary>
    public const string PhoneNumberId = "106540352242922";

    public const string MessagesPath = "/v23.0/" + PhoneNumberId + "/messages";
    public const string ReceivedPath = "/stub/received";
    public const int DefaultMaxRequestLogCount = 1_000;

    private WhatsAppStubServer()
    {
    }

    public WireMockServer Server { get; private set; } = null!;

    public string Url => Server.Url!;

    /// <summary>What <c>GET /stub/received</c> answers: sends counted as they are answered.</summary>
    public ReceivedCounts Received { get; } = new();

    public static WhatsAppStubServer Start(WhatsAppStubOptions options)
    {
        var port = options.Port;
        var stub = new WhatsAppStubServer();
        var server = stub.Server = WireMockServer.Start(new WireMockServerSettings
        {
            Urls = port == 0 ? null : [options.BindAllInterfaces ? $"http://0.0.0.0:{port}" : $"http://127.0.0.1:{port}"],
            Port = port == 0 ? null : port,
            StartAdminInterface = true,
            ReadStaticMappings = false,
            MaxRequestLogCount = options.MaxRequestLogCount,
            // Counts are taken here, as each send arrives (not from the request log, which drops entries under load).
            PreWireMockMiddlewareInit = app => ((IApplicationBuilder)app).Use(stub.CountAsync),
            // One console line per request would drown a 1,000-message demo; GET /__admin/requests has the recent ones.
            Logger = new WireMockNullLogger(),
        });
        try
        {
            server.LogEntriesChanged += stub.OnLogChanged;
            foreach (var file in MappingFiles(options.MappingsFolder, options.Faults)) stub.Load(file);
            server.Given(Request.Create().WithPath(ReceivedPath).UsingGet())
                .AtPriority(1)
                .RespondWith(Response.Create().WithCallback(_ => StubResponses.Json(200, stub.Received.ToJson())));
            return stub;
        }
        catch
        {
            server.Stop();
            throw;
        }
    }

    /// <summary>The JSON files loaded: <c>mappings/*.json</c>, then <c>mappings/faults/*.json</c> when faults are on.</summary>
    public static IReadOnlyList<string> MappingFiles(string mappingsFolder, bool faults)
    {
        var files = Directory.GetFiles(mappingsFolder, "*.json").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidOperationException($"no *.json mappings in {mappingsFolder}");
        var faultsFolder = Path.Combine(mappingsFolder, "faults");
        if (faults && Directory.Exists(faultsFolder))
        {
            files.AddRange(Directory.GetFiles(faultsFolder, "*.json").Order(StringComparer.Ordinal));
        }

        return files;
    }

    /// <summary>True when the mapping file hands its body to code (<c>"Data": { "answer": "code" }</c>).</summary>
    public static bool AnsweredByCode(string mappingFile) => CodeAnswer.TryRead(mappingFile) is not null;

    public void Dispose() => Server.Stop();

    private void Load(string file)
    {
        if (!Server.ReadStaticMappingAndAddOrUpdate(file)) throw new InvalidOperationException($"could not read WireMock mapping {file}");
        if (CodeAnswer.TryRead(file) is not { } answer) return;

        // Same Guid: replaces the mapping just read, keeping its request matcher (path, method, headers, body) as loaded.
        var loaded = Server.Mappings.Single(m => m.Guid == answer.Guid);
        var mapping = Server.Given(loaded.RequestMatcher).WithGuid(loaded.Guid).AtPriority(loaded.Priority);
        if (loaded.Title is { } title) mapping = mapping.WithTitle(title);
        if (loaded.Probability is { } probability) mapping = mapping.WithProbability(probability);
        var response = Response.Create().WithCallback(request => AcceptedSend.Answer(request, answer));
        if (answer.Delay > TimeSpan.Zero) response.WithDelay(answer.Delay);
        mapping.RespondWith(response);
    }

    private void OnLogChanged(object? sender, NotifyCollectionChangedEventArgs change)
    {
        // DELETE /__admin/requests starts the counts again, as when they were computed from the log.
        if (change.Action == NotifyCollectionChangedAction.Reset) Received.Reset();
    }

    private Task CountAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || !StubJson.IsMessagesPath(request.Path.Value ?? "")) return next(context);
        return CountSendAsync(context, next);
    }

    private async Task CountSendAsync(HttpContext context, RequestDelegate next)
    {
        // Buffered so WireMock reads the same body after us.
        context.Request.EnableBuffering();
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        context.Request.Body.Position = 0;
        var to = StubJson.ReadTo(body.GetBuffer().AsSpan(0, (int)body.Length));
        // Counted just before the answer's first byte leaves, so a client that got its answer finds it counted.
        context.Response.OnStarting(() =>
        {
            Received.Add(to, context.Response.StatusCode == 200);
            return Task.CompletedTask;
        });
        await next(context);
    }
}

/// <summary>Counts of send requests, kept as they arrive, so <c>GET /stub/received</c> never walks a request log.</summary>
public sealed class ReceivedCounts
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> accepted = new(StringComparer.Ordinal);
    private int requests;
    private int rejected;

    public int Requests
    {
        get
        {
            lock (gate) return requests;
        }
    }

    public int Accepted
    {
        get
        {
            lock (gate) return accepted.Values.Sum();
        }
    }

    public int AcceptedFor(string to)
    {
        lock (gate) return accepted.GetValueOrDefault(to);
    }

    internal void Add(string? to, bool wasAccepted)
    {
        lock (gate)
        {
            requests++;
            if (!wasAccepted)
            {
                rejected++;
                return;
            }

            to ??= "(none)";
            accepted[to] = accepted.GetValueOrDefault(to) + 1;
        }
    }

    internal void Reset()
    {
        lock (gate)
        {
            accepted.Clear();
            requests = 0;
            rejected = 0;
        }
    }

    /// <summary><c>{requests, accepted, rejected, recipients, maxPerRecipient, byRecipient}</c>, recipients in ordinal order.</summary>
    public string ToJson()
    {
        KeyValuePair<string, int>[] counts;
        int total, failed;
        lock (gate)
        {
            counts = [.. accepted];
            total = requests;
            failed = rejected;
        }

        Array.Sort(counts, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var buffer = new ArrayBufferWriter<byte>(64 + counts.Length * 24);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = StubJson.Options.Encoder }))
        {
            json.WriteStartObject();
            json.WriteNumber("requests", total);
            json.WriteNumber("accepted", counts.Sum(kv => kv.Value));
            json.WriteNumber("rejected", failed);
            json.WriteNumber("recipients", counts.Length);
            json.WriteNumber("maxPerRecipient", counts.Length == 0 ? 0 : counts.Max(kv => kv.Value));
            json.WriteStartObject("byRecipient");
            foreach (var (to, count) in counts) json.WriteNumber(to, count);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
