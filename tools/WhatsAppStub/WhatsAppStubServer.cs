using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WireMock;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace Bot.Tools.WhatsAppStub;

/// <summary>
/// WireMock.Net standing in for the WhatsApp Cloud API. Behaviour lives in the JSON mappings (so testers can change it
/// without code); the only code-defined route is <c>GET /stub/received</c>, a count of messages per recipient.
/// </summary>
public static partial class WhatsAppStubServer
{
    public const string ReceivedPath = "/stub/received";

    // Phone numbers start with '+'; keep it readable instead of \u002B.
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Starts the stub; <paramref name="port"/> 0 picks a free port (tests).</summary>
    public static WireMockServer Start(int port, string mappingsFolder, bool faults, bool bindAllInterfaces = true)
    {
        var settings = new WireMockServerSettings
        {
            // Listen on every interface so other containers can reach it; tests stay on loopback.
            Urls = port == 0 ? null : [bindAllInterfaces ? $"http://0.0.0.0:{port}" : $"http://127.0.0.1:{port}"],
            Port = port == 0 ? null : port,
            StartAdminInterface = true,
            ReadStaticMappings = false,
            // One console line per request would drown a 1,000-message demo; GET /__admin/requests has them all.
            Logger = new WireMockNullLogger(),
        };
        var server = WireMockServer.Start(settings);
        try
        {
            LoadMappings(server, mappingsFolder, faults);
            server.Given(Request.Create().WithPath(ReceivedPath).UsingGet())
                .AtPriority(1)
                .RespondWith(Response.Create().WithCallback(_ => Summary(server)));
            return server;
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
        var faultsFolder = Path.Combine(mappingsFolder, "faults");
        if (faults && Directory.Exists(faultsFolder))
        {
            files.AddRange(Directory.GetFiles(faultsFolder, "*.json").Order(StringComparer.Ordinal));
        }

        return files;
    }

    private static void LoadMappings(WireMockServer server, string mappingsFolder, bool faults)
    {
        var files = MappingFiles(mappingsFolder, faults);
        if (files.Count == 0) throw new InvalidOperationException($"no *.json mappings in {mappingsFolder}");
        foreach (var file in files)
        {
            if (!server.ReadStaticMappingAndAddOrUpdate(file))
            {
                throw new InvalidOperationException($"could not read WireMock mapping {file}");
            }
        }
    }

    [GeneratedRegex(@"^/v\d+\.\d+/[^/]+/messages$")]
    private static partial Regex MessagesPath();

    /// <summary>Counts per recipient of the sends the stub accepted (200), plus totals, as JSON.</summary>
    private static ResponseMessage Summary(WireMockServer server)
    {
        var sends = server.LogEntries
            .Where(e => e.RequestMessage.Method == "POST" && MessagesPath().IsMatch(e.RequestMessage.Path))
            .ToList();
        var accepted = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var rejected = 0;
        foreach (var entry in sends)
        {
            if (entry.ResponseMessage.StatusCode is not (200 or "200"))
            {
                rejected++;
                continue;
            }

            var to = TryReadTo(entry.RequestMessage.Body) ?? "(none)";
            accepted[to] = accepted.GetValueOrDefault(to) + 1;
        }

        var body = new JsonObject
        {
            ["requests"] = sends.Count,
            ["accepted"] = accepted.Values.Sum(),
            ["rejected"] = rejected,
            ["recipients"] = accepted.Count,
            ["maxPerRecipient"] = accepted.Count == 0 ? 0 : accepted.Values.Max(),
            ["byRecipient"] = new JsonObject(accepted.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        };
        return new ResponseMessage
        {
            StatusCode = 200,
            Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
            BodyData = new BodyData { BodyAsString = body.ToJsonString(JsonOptions), DetectedBodyType = BodyType.String },
        };
    }

    private static string? TryReadTo(string? body)
    {
        if (string.IsNullOrEmpty(body)) return null;
        try
        {
            return JsonNode.Parse(body)?["to"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
