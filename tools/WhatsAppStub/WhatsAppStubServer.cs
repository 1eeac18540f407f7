using System.Collections.Frozen;
using System.Collections.Specialized;
using Bot.Tools.WhatsAppStub.World;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Bot.Tools.WhatsAppStub;

/// <summary>
/// WireMock.Net standing in for the WhatsApp Cloud API, started by the tool (run.sh, compose), by the tests and by the
/// bench. Behaviour lives in the JSON mappings so testers change it without code; a mapping whose <c>Data.answer</c> is
/// <c>"code"</c> keeps its request matching, status, headers and delay from the file and has its body built by
/// <see cref="AcceptedSend"/> instead of the Handlebars template (which serves about 25 requests/s). Code-defined
/// route: <c>GET /stub/received</c>, per-recipient counts kept as sends arrive. In world mode
/// (<see cref="WhatsAppStubOptions.WebhookUrl"/>) a <see cref="StubWorld"/> adds what needs state: windows, the
/// messaging limit and signed status webhooks, plus <c>POST /stub/inbound</c> (a person messages a number).
/// </summary>
public sealed partial class WhatsAppStubServer : IDisposable
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
            stub.MapTemplates(server, options);
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

    /// <summary>True for <c>/{version}/{phoneNumberId}/messages</c>.</summary>
    public static bool IsMessagesPath(string path) => StubJson.IsMessagesPath(path);

    public void Dispose()
    {
        Server.Stop();
        world?.Dispose();
    }

    private void OnLogChanged(object? sender, NotifyCollectionChangedEventArgs change)
    {
        // DELETE /__admin/requests starts the counts again, as when they were computed from the log.
        if (change.Action == NotifyCollectionChangedAction.Reset) Received.Reset();
    }
}
