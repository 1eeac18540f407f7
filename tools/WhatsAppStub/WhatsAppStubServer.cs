using System.Buffers;
using System.Collections.Frozen;
using System.Collections.Specialized;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bot.Tools.WhatsAppStub.World;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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

    /// <summary>
    /// Phone number id → access token. Empty (the default): any token and any phone number id are answered. Otherwise a
    /// send whose bearer token is no sender's answers 401 (Graph 190), and one to a phone number id that is unknown or
    /// not the token's answers 400 (Graph 100, subcode 33), before any mapping is consulted, as Graph checks them first.
    /// </summary>
    public IReadOnlyDictionary<string, string> Senders { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>
    /// E.164 number without '+' → the wa_id WhatsApp knows that person by (Brazil, Mexico, Argentina), given back in the
    /// send answer's <c>contacts[].wa_id</c> and as statuses' <c>recipient_id</c>. Unlisted numbers: the number itself.
    /// </summary>
    public IReadOnlyDictionary<string, string> WaIds { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>
    /// World mode is on when this is set: statuses and inbound messages are POSTed here, signed with
    /// <see cref="AppSecret"/>; free-form messages need an open customer-service window; the messaging limit applies.
    /// </summary>
    public Uri? WebhookUrl { get; init; }

    /// <summary>Numbers (without '+') of people with a username whose number WhatsApp withholds: webhooks about them carry
    /// only their BSUID (<c>user_id</c>, <c>recipient_user_id</c>), no <c>wa_id</c>, <c>from</c> or <c>recipient_id</c>.</summary>
    public IReadOnlySet<string> WithheldNumbers { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Keys the HMAC-SHA256 of <c>X-Hub-Signature-256</c>; required with <see cref="WebhookUrl"/>.</summary>
    public string? AppSecret { get; init; }

    /// <summary>How long after a person's last message to a number free-form messages to them go (WhatsApp: 24 h).</summary>
    public TimeSpan CustomerServiceWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Delays after the 200 before each status is posted; null: that status is never posted. <c>failed</c> comes after <see cref="SentAfter"/>.</summary>
    public TimeSpan? SentAfter { get; init; } = TimeSpan.FromSeconds(0.5);

    public TimeSpan? DeliveredAfter { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan? ReadAfter { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Unique recipients of templates per <see cref="MessagingLimitWindow"/> across all senders (one portfolio); null or 0: unlimited.</summary>
    public int? MessagingLimit { get; init; }

    public TimeSpan MessagingLimitWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The <c>entry[].id</c> (WhatsApp Business Account id) and <c>metadata.display_phone_number</c> of webhook POSTs.</summary>
    public string WabaId { get; init; } = "102290129340398";

    public string DisplayPhoneNumber { get; init; } = "15550783881";

    /// <summary>Drives the windows, the messaging limit and the status delays.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where world mode logs dropped webhook POSTs; the tool logs to the console.</summary>
    public ILoggerFactory Loggers { get; init; } = NullLoggerFactory.Instance;

    internal void Validate()
    {
        if (WebhookUrl is null) return;
        if (string.IsNullOrEmpty(AppSecret)) throw new ArgumentException("world mode (a webhook URL) needs the app secret that signs its POSTs");
        if (CustomerServiceWindow <= TimeSpan.Zero || MessagingLimitWindow <= TimeSpan.Zero) throw new ArgumentException("windows must be positive");
        if (new[] { SentAfter, DeliveredAfter, ReadAfter }.Any(d => d < TimeSpan.Zero)) throw new ArgumentException("status delays cannot be negative");
    }
}

/// <summary>
/// WireMock.Net standing in for the WhatsApp Cloud API, started by the tool (run.sh, compose), by the tests and by the
/// bench. Behaviour lives in the JSON mappings so testers change it without code; a mapping whose <c>Data.answer</c> is
/// <c>"code"</c> keeps its request matching, status, headers and delay from the file and has its body built by
/// <see cref="AcceptedSend"/> instead of the Handlebars template (which serves about 25 requests/s). Code-defined
/// route: <c>GET /stub/received</c>, per-recipient counts kept as sends arrive. In world mode
/// (<see cref="WhatsAppStubOptions.WebhookUrl"/>) a <see cref="StubWorld"/> adds what needs state: windows, the
/// messaging limit and signed status webhooks, plus <c>POST /stub/inbound</c> (a person messages a number).
/// </summary>
public sealed class WhatsAppStubServer : IDisposable
{
    /// <summary>The phone number id run.sh, compose, the tests and the bench configure (any id is answered).</summary>
    public const string PhoneNumberId = "106540352242922";

    public const string MessagesPath = "/v23.0/" + PhoneNumberId + "/messages";
    public const string ReceivedPath = "/stub/received";
    public const string InboundPath = "/stub/inbound";
    public const int DefaultMaxRequestLogCount = 1_000;

    private FrozenDictionary<string, string> senders = FrozenDictionary<string, string>.Empty;
    private IReadOnlyDictionary<string, string> waIds = FrozenDictionary<string, string>.Empty;
    private StubWorld? world;

    private WhatsAppStubServer()
    {
    }

    public WireMockServer Server { get; private set; } = null!;

    public string Url => Server.Url!;

    /// <summary>What <c>GET /stub/received</c> answers: sends counted as they are answered.</summary>
    public ReceivedCounts Received { get; } = new();

    /// <summary>True when statuses are posted and windows and limits apply.</summary>
    public bool IsWorld => world is not null;

    public static WhatsAppStubServer Start(WhatsAppStubOptions options)
    {
        options.Validate();
        var port = options.Port;
        var stub = new WhatsAppStubServer
        {
            senders = options.Senders.ToFrozenDictionary(StringComparer.Ordinal),
            waIds = options.WaIds.ToFrozenDictionary(StringComparer.Ordinal),
        };
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
            if (options.WebhookUrl is not null) stub.world = new StubWorld(options, stub.Received, options.Loggers.CreateLogger<StubWorld>());
            server.LogEntriesChanged += stub.OnLogChanged;
            foreach (var file in MappingFiles(options.MappingsFolder, options.Faults)) stub.Load(file);
            server.Given(Request.Create().WithPath(ReceivedPath).UsingGet())
                .AtPriority(1)
                .RespondWith(Response.Create().WithCallback(_ => StubResponses.Json(200, stub.Received.ToJson())));
            PhoneNumberLookup.Map(server, stub.senders);
            server.Given(Request.Create().WithPath(InboundPath).UsingPost())
                .AtPriority(1)
                .RespondWith(Response.Create().WithCallback(stub.Inbound));
            server.Given(Request.Create().WithPath(NumberChangeEndpoint.Path).UsingPost())
                .AtPriority(1)
                .RespondWith(Response.Create().WithCallback(request => NumberChangeEndpoint.Answer(request, stub.world, stub.senders)));
            return stub;
        }
        catch
        {
            stub.Dispose();
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

    /// <summary>True for <c>/{version}/{phoneNumberId}/messages</c>.</summary>
    public static bool IsMessagesPath(string path) => StubJson.IsMessagesPath(path);

    /// <summary>True when the mapping file hands its body to code (<c>"Data": { "answer": "code" }</c>).</summary>
    public static bool AnsweredByCode(string mappingFile) => CodeAnswer.TryRead(mappingFile) is not null;

    public void Dispose()
    {
        Server.Stop();
        world?.Dispose();
    }

    private void Load(string file)
    {
        if (!Server.ReadStaticMappingAndAddOrUpdate(file)) throw new InvalidOperationException($"could not read WireMock mapping {file}");
        if (CodeAnswer.TryRead(file) is not { } answer) return;

        // Same Guid: replaces the mapping just read, keeping its request matcher (path, method, headers, body) as loaded.
        var loaded = Server.Mappings.Single(m => m.Guid == answer.Guid);
        var mapping = Server.Given(loaded.RequestMatcher).WithGuid(loaded.Guid).AtPriority(loaded.Priority);
        if (loaded.Title is { } title) mapping = mapping.WithTitle(title);
        if (loaded.Probability is { } probability) mapping = mapping.WithProbability(probability);
        var response = Response.Create().WithCallback(request => AcceptedSend.Answer(request, answer, waIds, world));
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
        var phoneNumberId = StubJson.PhoneNumberIdOf(context.Request.Path.Value ?? "");
        // Counted just before the answer's first byte leaves, so a client that got its answer finds it counted.
        context.Response.OnStarting(() =>
        {
            Received.Add(to, phoneNumberId, context.Response.StatusCode == 200);
            return Task.CompletedTask;
        });
        if (senders.Count > 0 && SenderError(phoneNumberId, context.Request.Headers.Authorization.ToString()) is { } rejection)
        {
            await StubResponses.WriteAsync(context.Response, rejection.Status, rejection.Body);
            return;
        }

        await next(context);
    }

    /// <summary>Graph's answer to a send whose token or phone number id is wrong, checked before any mapping; null when both are right.</summary>
    private (int Status, string Body)? SenderError(string phoneNumberId, string authorization)
    {
        var token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : "";
        if (senders.TryGetValue(phoneNumberId, out var expected) && TokenEquals(token, expected)) return null;
        if (!senders.Values.Any(known => TokenEquals(token, known)))
        {
            return (401, """{"error":{"message":"(#190) Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"AStubTrace190"}}""");
        }

        // A valid token, but not for this number (or no such number): what Graph answers for an id it cannot load.
        var id = JsonEncodedText.Encode(phoneNumberId, StubJson.Options.Encoder);
        return (400, $$$"""{"error":{"message":"Unsupported post request. Object with ID '{{{id}}}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"AStubTrace33"}}""");
    }

    // Constant time: the stub should not teach a client to guess tokens byte by byte, any more than Graph does.
    private static bool TokenEquals(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));

    /// <summary><c>POST /stub/inbound</c> <c>{phoneNumberId, from, text, name?, waId?}</c>: that person messages the number.</summary>
    private WireMock.ResponseMessage Inbound(WireMock.IRequestMessage request)
    {
        if (world is null)
        {
            return InboundError(409, "world mode is off: start the stub with a webhook URL (--webhook-url) and an app secret");
        }

        InboundRequest? inbound;
        try
        {
            inbound = JsonSerializer.Deserialize<InboundRequest>(request.Body ?? "", InboundRequest.Json);
        }
        catch (JsonException)
        {
            inbound = null;
        }

        if (inbound is not { PhoneNumberId: { Length: > 0 } phoneNumberId, From: { Length: > 0 } from, Text: { Length: > 0 } text } ||
            !from.All(char.IsAsciiDigit) || inbound.WaId is { } w && !w.All(char.IsAsciiDigit))
        {
            return InboundError(400, """expected JSON {"phoneNumberId":"...","from":"16502001234","text":"hello","name":"optional","waId":"optional"}; from and waId are digits without a plus sign""");
        }

        if (senders.Count > 0 && !senders.ContainsKey(phoneNumberId))
        {
            return InboundError(404, "unknown phoneNumberId: not one of the stub's senders");
        }

        var id = world.Inbound(phoneNumberId, from, inbound.WaId ?? from, inbound.Name, text);
        return StubResponses.Json(200, JsonSerializer.Serialize(new { id }));
    }

    private static WireMock.ResponseMessage InboundError(int status, string message) =>
        StubResponses.Json(status, JsonSerializer.Serialize(new { error = message }, StubJson.Options));

    private sealed record InboundRequest(string? PhoneNumberId, string? From, string? Text, string? Name, string? WaId)
    {
        public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    }
}

/// <summary>Counts of send requests, kept as they arrive, so <c>GET /stub/received</c> never walks a request log.</summary>
public sealed class ReceivedCounts
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> accepted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> acceptedBySender = new(StringComparer.Ordinal);
    private int requests;
    private int rejected;
    private int outsideWindow;
    private int overMessagingLimit;
    private int webhookPosts;
    private int webhookUpdates;
    private int webhookUpdatesDropped;

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

    /// <summary>Accepted sends failed afterwards with 131047 (free-form outside the customer-service window).</summary>
    public int OutsideWindow => Volatile.Read(ref outsideWindow);

    /// <summary>Accepted templates failed afterwards with 131049 (a new recipient beyond the messaging limit).</summary>
    public int OverMessagingLimit => Volatile.Read(ref overMessagingLimit);

    public int AcceptedFor(string to)
    {
        lock (gate) return accepted.GetValueOrDefault(to);
    }

    public int AcceptedFrom(string phoneNumberId)
    {
        lock (gate) return acceptedBySender.GetValueOrDefault(phoneNumberId);
    }

    internal void Add(string? to, string phoneNumberId, bool wasAccepted)
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
            acceptedBySender[phoneNumberId] = acceptedBySender.GetValueOrDefault(phoneNumberId) + 1;
        }
    }

    internal void AddOutsideWindow() => Interlocked.Increment(ref outsideWindow);

    internal void AddOverMessagingLimit() => Interlocked.Increment(ref overMessagingLimit);

    internal void AddWebhookPost(int updates)
    {
        lock (gate)
        {
            webhookPosts++;
            webhookUpdates += updates;
        }
    }

    internal void AddWebhookDropped(int updates) => Interlocked.Add(ref webhookUpdatesDropped, updates);

    internal void Reset()
    {
        lock (gate)
        {
            accepted.Clear();
            acceptedBySender.Clear();
            requests = 0;
            rejected = 0;
            outsideWindow = 0;
            overMessagingLimit = 0;
            webhookPosts = 0;
            webhookUpdates = 0;
            webhookUpdatesDropped = 0;
        }
    }

    /// <summary>
    /// <c>{requests, accepted, rejected, recipients, maxPerRecipient, outsideWindow, overMessagingLimit, webhooks, bySender,
    /// byRecipient}</c>, keys in ordinal order.
    /// </summary>
    public string ToJson()
    {
        KeyValuePair<string, int>[] counts, bySender;
        int total, failed, posts, updates;
        lock (gate)
        {
            counts = [.. accepted];
            bySender = [.. acceptedBySender];
            total = requests;
            failed = rejected;
            posts = webhookPosts;
            updates = webhookUpdates;
        }

        Array.Sort(counts, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        Array.Sort(bySender, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var buffer = new ArrayBufferWriter<byte>(256 + counts.Length * 24);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = StubJson.Options.Encoder }))
        {
            json.WriteStartObject();
            json.WriteNumber("requests", total);
            json.WriteNumber("accepted", counts.Sum(kv => kv.Value));
            json.WriteNumber("rejected", failed);
            json.WriteNumber("recipients", counts.Length);
            json.WriteNumber("maxPerRecipient", counts.Length == 0 ? 0 : counts.Max(kv => kv.Value));
            json.WriteNumber("outsideWindow", OutsideWindow);
            json.WriteNumber("overMessagingLimit", OverMessagingLimit);
            json.WriteStartObject("webhooks");
            json.WriteNumber("posts", posts);
            json.WriteNumber("updates", updates);
            json.WriteNumber("dropped", Volatile.Read(ref webhookUpdatesDropped));
            json.WriteEndObject();
            json.WriteStartObject("bySender");
            foreach (var (phoneNumberId, count) in bySender) json.WriteNumber(phoneNumberId, count);
            json.WriteEndObject();
            json.WriteStartObject("byRecipient");
            foreach (var (to, count) in counts) json.WriteNumber(to, count);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
