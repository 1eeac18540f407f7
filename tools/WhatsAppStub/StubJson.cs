using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using WireMock;

namespace Bot.Tools.WhatsAppStub;

internal static partial class StubJson
{
    // Phone numbers start with '+'; keep it readable instead of \u002B.
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex(@"^/v\d+\.\d+/[^/]+/messages$")]
    private static partial Regex MessagesPath();

    public static bool IsMessagesPath(string path) => MessagesPath().IsMatch(path);

    /// <summary>The top-level <c>to</c> of a send; null when absent or not JSON.</summary>
    public static string? ReadTo(IRequestMessage request) =>
        ReadTo(request.BodyAsBytes ?? (request.Body is { } body ? Encoding.UTF8.GetBytes(body) : []));

    public static string? ReadTo(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return null;
        try
        {
            var json = new Utf8JsonReader(bytes);
            while (json.Read())
            {
                if (json.TokenType != JsonTokenType.PropertyName || json.CurrentDepth != 1) continue;
                var isTo = json.ValueTextEquals("to"u8);
                json.Read();
                if (isTo && json.TokenType == JsonTokenType.String) return json.GetString();
                json.TrySkip();
            }
        }
        catch (JsonException)
        {
            // A body that is not JSON: counted under "(none)", like a send without a recipient.
        }

        return null;
    }
}
