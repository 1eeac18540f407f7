using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bot.WhatsAppClient;

internal static class WhatsAppJson
{
    // Requests omit null members: Meta's payloads carry none (a text message has no "template" key).
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
