using System.Text.Json;
using StackExchange.Redis;

namespace Bot.Core.Templates;

/// <summary>
/// Each sender's template catalog in Redis: one hash per sender (<c>tpl:{senderId}</c>, field <c>name/language</c> →
/// the variant as JSON), so the webhook host, the dispatchers and every replica read the same catalog. A sync replaces
/// it whole (built under another name with the same hash tag, then RENAMEd over it: readers never see half a catalog);
/// the template webhooks change one variant in between.
/// </summary>
public sealed class TemplateCatalog(IDatabase db)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RedisKey Key(string senderId) => $"tpl:{{{senderId}}}";

    private static RedisValue Field(string name, string language) => $"{name}/{language}";

    /// <summary>Replaces the sender's catalog with <paramref name="templates"/>; an empty list empties it.</summary>
    public async Task ReplaceAsync(string senderId, IReadOnlyCollection<TemplateInfo> templates)
    {
        var key = Key(senderId);
        if (templates.Count == 0)
        {
            await db.KeyDeleteAsync(key);
            return;
        }

        RedisKey draft = $"{key}:sync:{Guid.NewGuid():N}";
        foreach (var chunk in templates.Chunk(500))
            await db.HashSetAsync(draft, [.. chunk.Select(t => new HashEntry(Field(t.Name, t.Language), JsonSerializer.Serialize(t, Json)))]);
        await db.KeyRenameAsync(draft, key);
    }

    /// <summary>Every variant of the sender's catalog, by name then language.</summary>
    public async Task<IReadOnlyList<TemplateInfo>> AllAsync(string senderId) =>
        [.. (await db.HashGetAllAsync(Key(senderId))).Select(e => Parse(e.Value)).OfType<TemplateInfo>()
            .OrderBy(t => t.Name, StringComparer.Ordinal).ThenBy(t => t.Language, StringComparer.Ordinal)];

    /// <summary>The variants of one template name (every language), for <see cref="TemplateResolver"/>; empty when unknown.</summary>
    public async Task<IReadOnlyList<TemplateInfo>> VariantsAsync(string senderId, string name) =>
        [.. (await AllAsync(senderId)).Where(t => t.Name == name)];

    public async Task<TemplateInfo?> GetAsync(string senderId, string name, string language) =>
        Parse(await db.HashGetAsync(Key(senderId), Field(name, language)));

    /// <summary>Applies a webhook's change to one variant; false when the catalog does not have it (the next sync brings it).</summary>
    public async Task<bool> UpdateAsync(string senderId, string name, string language, Func<TemplateInfo, TemplateInfo> change)
    {
        if (await GetAsync(senderId, name, language) is not { } current) return false;
        await db.HashSetAsync(Key(senderId), Field(name, language), JsonSerializer.Serialize(change(current), Json));
        return true;
    }

    private static TemplateInfo? Parse(RedisValue value) => value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<TemplateInfo>((string)value!, Json);
}
