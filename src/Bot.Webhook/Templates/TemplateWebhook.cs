using System.Text.Json;

namespace Bot.Webhook.Templates;

/// <summary>
/// A change from one of the three template webhooks (WHATSAPP.md, "Template management"): <c>entry[].id</c> is the
/// WABA, <c>value</c> names the variant and what changed. Fields that are not there are null.
/// </summary>
public sealed record TemplateChange(
    string Field, string WabaId, string Name, string Language, string? Status, string? Reason, string? QualityScore, string? Category)
{
    public const string StatusUpdate = "message_template_status_update";
    public const string QualityUpdate = "message_template_quality_update";
    public const string CategoryUpdate = "template_category_update";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, MaxDepth = 64 };

    /// <summary>The template changes in a signed webhook body; none when it carries only messages and statuses.</summary>
    public static IReadOnlyList<TemplateChange> Parse(ReadOnlySpan<byte> body)
    {
        Envelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<Envelope>(body, Json);
        }
        catch (JsonException)
        {
            return [];
        }

        var changes = new List<TemplateChange>();
        foreach (var entry in (envelope?.Entry ?? []).OfType<Entry>())
        {
            foreach (var change in (entry.Changes ?? []).OfType<Change>())
            {
                if (change is not { Field: StatusUpdate or QualityUpdate or CategoryUpdate } || entry.Id is not { Length: > 0 } waba ||
                    change.Value is not { MessageTemplateName: { Length: > 0 } name, MessageTemplateLanguage: { Length: > 0 } language } v) continue;
                changes.Add(new TemplateChange(change.Field!, waba, name, language, v.Event?.ToUpperInvariant(), v.Reason,
                    v.NewQualityScore?.ToUpperInvariant(), v.NewCategory?.ToUpperInvariant()));
            }
        }

        return changes;
    }

    private sealed record Envelope(IReadOnlyList<Entry?>? Entry);

    private sealed record Entry(string? Id, IReadOnlyList<Change?>? Changes);

    private sealed record Change(string? Field, ChangeValue? Value);

    private sealed record ChangeValue(
        string? Event, string? MessageTemplateName, string? MessageTemplateLanguage, string? Reason, string? NewQualityScore, string? NewCategory);
}
