using System.Text.Json;
using StackExchange.Redis;

namespace Bot.Core.Media;

/// <summary>A file uploaded to WhatsApp for one sender: what <c>POST /api/media</c> answers. The bytes are not kept.</summary>
/// <param name="Id">WhatsApp's media id, valid for that number only.</param>
/// <param name="ExpiresAt">When WhatsApp forgets the id (30 days after the upload).</param>
public sealed record MediaInfo(string Id, string ContentType, long Size, string Sha256, string? FileName, DateTimeOffset ExpiresAt);

/// <summary>
/// A file an announcement sends: an uploaded media id or a link, with its kind (<c>image</c>, <c>document</c>,
/// <c>video</c>) and a document's file name.
/// </summary>
public sealed record MediaAttachment(string Kind, string? Id, string? Link, string? FileName = null);

/// <summary>
/// Uploaded media per sender, by sha256 (the same bytes are uploaded once while the id is valid) and by id (an
/// announcement's media is checked at create). Both keys expire a day before WhatsApp forgets the id, so an id about
/// to lapse is never handed out again. The media of an announcement lives beside it (<c>ann:{id}:media</c>).
/// </summary>
public sealed class MediaStore(IDatabase db, TimeProvider time)
{
    /// <summary>How long WhatsApp keeps an uploaded file.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(30);

    /// <summary>Not reused in its last day: an announcement created with it still has time to go out.</summary>
    public static readonly TimeSpan ReuseMargin = TimeSpan.FromDays(1);

    // Announcements and their records are kept for weeks; the attachment outlives the id it names by as long.
    private static readonly TimeSpan AttachmentRetention = TimeSpan.FromDays(90);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RedisKey BySha(string senderId, string sha256) => $"media:{{{senderId}}}:sha:{sha256}";

    public static RedisKey ById(string senderId, string mediaId) => $"media:{{{senderId}}}:id:{mediaId}";

    public static RedisKey OfAnnouncement(string announcementId) => Redis.RedisKeys.AnnouncementMedia(announcementId);

    public async Task<MediaInfo?> FindByShaAsync(string senderId, string sha256) => Parse<MediaInfo>(await db.StringGetAsync(BySha(senderId, sha256)));

    public async Task<MediaInfo?> FindByIdAsync(string senderId, string mediaId) => Parse<MediaInfo>(await db.StringGetAsync(ById(senderId, mediaId)));

    /// <summary>Records an upload; both keys expire <see cref="ReuseMargin"/> before the id does.</summary>
    public async Task AddAsync(string senderId, MediaInfo media)
    {
        var ttl = media.ExpiresAt - ReuseMargin - time.GetUtcNow();
        if (ttl <= TimeSpan.Zero) return;
        var json = JsonSerializer.Serialize(media, Json);
        // Id first: a crash between the writes leaves an id the sha cannot find, which only costs one more upload.
        await db.StringSetAsync(ById(senderId, media.Id), json, ttl);
        await db.StringSetAsync(BySha(senderId, media.Sha256), json, ttl);
    }

    /// <summary>Stores an announcement's file before the announcement itself, so a dispatcher never sees one without the other.</summary>
    public Task AttachAsync(string announcementId, MediaAttachment media) =>
        db.StringSetAsync(OfAnnouncement(announcementId), JsonSerializer.Serialize(media, Json), AttachmentRetention);

    /// <summary>The file an announcement sends with its message (as the caption); null for a text announcement.</summary>
    public async Task<MediaAttachment?> AttachmentOfAsync(string announcementId) =>
        Parse<MediaAttachment>(await db.StringGetAsync(OfAnnouncement(announcementId)));

    private static T? Parse<T>(RedisValue value) where T : class => value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<T>((string)value!, Json);
}
