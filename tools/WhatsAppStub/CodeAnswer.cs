using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bot.Tools.WhatsAppStub;

/// <summary>
/// The fields a mapping file with <c>"Data": { "answer": "code" }</c> gives the code path: its status, headers and delay
/// (<c>Response.StatusCode</c>, <c>Response.Headers</c>, <c>Response.Delay</c>) and <c>Data.messageStatus</c>.
/// </summary>
internal sealed record CodeAnswer(Guid Guid, int StatusCode, IReadOnlyDictionary<string, string> Headers, TimeSpan Delay, string MessageStatus)
{
    public static CodeAnswer? TryRead(string mappingFile)
    {
        var root = JsonNode.Parse(File.ReadAllText(mappingFile), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (root?["Data"]?["answer"]?.GetValue<string>() != "code") return null;
        var response = root["Response"];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = "application/json" };
        if (response?["Headers"] is JsonObject fileHeaders)
        {
            foreach (var (name, value) in fileHeaders) headers[name] = value is JsonArray list ? string.Join(", ", list) : value?.ToString() ?? "";
        }

        return new CodeAnswer(
            Guid.Parse(root["Guid"]?.GetValue<string>() ?? throw new InvalidOperationException($"{mappingFile}: a code-answered mapping needs a Guid")),
            int.Parse(response?["StatusCode"]?.ToString() ?? "200", CultureInfo.InvariantCulture),
            headers,
            TimeSpan.FromMilliseconds(response?["Delay"]?.GetValue<int>() ?? 0),
            root["Data"]?["messageStatus"]?.GetValue<string>() ?? "accepted");
    }
}
