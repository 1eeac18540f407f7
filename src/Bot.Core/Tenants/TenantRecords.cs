using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bot.Core.Tenants;

/// <summary>A WhatsApp number added through the operator API; <see cref="ProtectedToken"/> is its token encrypted by <see cref="SecretProtector"/>.</summary>
public sealed record SenderRecord(
    string Id, string PhoneNumberId, string ProtectedToken, string? WabaId, int MessagesPerSecond, string? Portfolio,
    string? DisplayPhoneNumber, string? VerifiedName, string? QualityRating, DateTimeOffset TokenUpdatedAt, DateTimeOffset UpdatedAt);

/// <summary>A business portfolio's messaging limit set through the operator API.</summary>
public sealed record PortfolioRecord(string Id, int MessagingLimit, TimeSpan MessagingLimitWindow);

/// <summary>The fallback template of an employer, as stored (the language resolved at write).</summary>
public sealed record TemplateRecord(string Name, string Language);

/// <summary>An employer added through the operator API.</summary>
public sealed record EmployerRecord(
    string Id, string Name, string Sender, string? TimeZone, string? QuietHours, string? Language, TemplateRecord? FallbackTemplate,
    DateTimeOffset UpdatedAt);

/// <summary>An employer API key: only the SHA-256 of the key is kept.</summary>
public sealed record ApiKeyRecord(string Id, string EmployerId, string? Name, string Hash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>One line of the audit trail.</summary>
/// <param name="Cursor">The stream id; pass it as <c>cursor</c> to read the entries before it.</param>
public sealed record AuditEntry(string Cursor, DateTimeOffset At, string Actor, string Action, string Target, string? EmployerId);

/// <summary>Everything made through the operator API, as one host last loaded it.</summary>
public sealed record TenantState(
    long Version,
    IReadOnlyDictionary<string, SenderRecord> Senders,
    IReadOnlyDictionary<string, PortfolioRecord> Portfolios,
    IReadOnlyDictionary<string, EmployerRecord> Employers,
    IReadOnlyDictionary<string, ApiKeyRecord> ApiKeys,
    IReadOnlyDictionary<string, ApiKeyRecord> ActiveKeysByHash)
{
    public static readonly TenantState Empty = new(0,
        new Dictionary<string, SenderRecord>(), new Dictionary<string, PortfolioRecord>(), new Dictionary<string, EmployerRecord>(),
        new Dictionary<string, ApiKeyRecord>(), new Dictionary<string, ApiKeyRecord>());
}

/// <summary>Who made an audited change: the operator, or an employer's API key.</summary>
public static class AuditActor
{
    public const string Admin = "admin";

    public static string Key(string keyId) => $"key:{keyId}";
}

internal static class TenantJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Read<T>(string json) => JsonSerializer.Deserialize<T>(json, Options)!;
}
