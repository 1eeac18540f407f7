using System.Text.Json.Serialization;

namespace Bot.WhatsAppClient;

/// <summary>What Graph answers for <c>GET /{phoneNumberId}?fields=…</c>.</summary>
/// <param name="Id">The phone number id.</param>
/// <param name="DisplayPhoneNumber">The number as people see it.</param>
/// <param name="VerifiedName">The business name WhatsApp verified.</param>
/// <param name="QualityRating">GREEN, YELLOW, RED or UNKNOWN.</param>
public sealed record PhoneNumberInfo(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("display_phone_number")] string? DisplayPhoneNumber,
    [property: JsonPropertyName("verified_name")] string? VerifiedName,
    [property: JsonPropertyName("quality_rating")] string? QualityRating)
{
    /// <summary>The fields asked for.</summary>
    public const string Fields = "id,display_phone_number,verified_name,quality_rating";
}
