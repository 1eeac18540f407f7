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

    /// <summary>The top-level <c>to</c> and <c>biz_opaque_callback_data</c> of a send; nulls when absent or not JSON.</summary>
    public static (string? To, string? CallbackData) ReadSend(IRequestMessage request) =>
        ReadSend(request.BodyAsBytes ?? (request.Body is { } body ? Encoding.UTF8.GetBytes(body) : []));

    public static (string? To, string? CallbackData) ReadSend(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return (null, null);
        string? to = null, callback = null;
        try
        {
            var json = new Utf8JsonReader(bytes);
            while (json.Read())
            {
                if (json.TokenType != JsonTokenType.PropertyName || json.CurrentDepth != 1) continue;
                var isTo = json.ValueTextEquals("to"u8);
                var isCallback = !isTo && json.ValueTextEquals("biz_opaque_callback_data"u8);
                json.Read();
                if (isTo && json.TokenType == JsonTokenType.String) to = json.GetString();
                else if (isCallback && json.TokenType == JsonTokenType.String) callback = json.GetString();
                else json.TrySkip();
            }
        }
        catch (JsonException)
        {
            // A body that is not JSON: counted under "(none)", like a send without a recipient.
        }

        return (to, callback);
    }
}
