namespace Bot.WhatsAppClient;

/// <summary>The kinds of file WhatsApp sends as a message or a template header.</summary>
public enum MediaKind
{
    /// <summary>image/jpeg or image/png, up to 5 MB.</summary>
    Image,

    /// <summary>application/pdf, up to 100 MB.</summary>
    Document,

    /// <summary>video/mp4, up to 16 MB.</summary>
    Video,
}

/// <summary>A file WhatsApp sends: an uploaded media <paramref name="Id"/> (valid 30 days, for the number that uploaded it) or a public <paramref name="Link"/>.</summary>
/// <param name="Kind">Image, document or video.</param>
/// <param name="Id">The media id from <c>POST /{phone-number-id}/media</c>.</param>
/// <param name="Link">An https URL WhatsApp fetches instead.</param>
/// <param name="FileName">Shown for a document.</param>
public sealed record MediaRef(MediaKind Kind, string? Id, string? Link, string? FileName = null)
{
    /// <summary>Graph's name of the kind: <c>image</c>, <c>document</c>, <c>video</c>.</summary>
    public string Type => Kind switch
    {
        MediaKind.Image => "image",
        MediaKind.Document => "document",
        _ => "video",
    };

    /// <summary>A file stored by its kind's name (<c>image</c>, <c>document</c>, <c>video</c>), as announcements keep it.</summary>
    /// <param name="kind">The kind's name.</param>
    /// <param name="id">The media id, or null.</param>
    /// <param name="link">The link, or null.</param>
    /// <param name="fileName">A document's file name.</param>
    public static MediaRef Of(string kind, string? id, string? link, string? fileName) =>
        new(Enum.Parse<MediaKind>(kind, ignoreCase: true), id, link, fileName);

    /// <summary>The kind of a MIME type WhatsApp takes (WHATSAPP.md, "Media"); null for any other.</summary>
    /// <param name="contentType">A MIME type.</param>
    public static MediaKind? KindOf(string? contentType) => contentType?.ToLowerInvariant() switch
    {
        "image/jpeg" or "image/png" => MediaKind.Image,
        "application/pdf" => MediaKind.Document,
        "video/mp4" => MediaKind.Video,
        _ => null,
    };

    /// <summary>WhatsApp's size limit for a kind (WHATSAPP.md, "Media").</summary>
    /// <param name="kind">The kind.</param>
    public static long MaxBytes(MediaKind kind) => kind switch
    {
        MediaKind.Image => 5L * 1024 * 1024,
        MediaKind.Video => 16L * 1024 * 1024,
        _ => 100L * 1024 * 1024,
    };
}

/// <summary>An image, document or video with the announcement text as caption (a free-form message: only inside the 24-hour window).</summary>
/// <param name="To">Recipient in E.164 with a leading '+'.</param>
/// <param name="Media">The file.</param>
/// <param name="Caption">The text under it, at most 1024 characters; null for none.</param>
/// <param name="CallbackData">Opaque data echoed back in status webhooks.</param>
public sealed record MediaMessage(string To, MediaRef Media, string? Caption, string? CallbackData = null) : OutgoingMessage(To, CallbackData);
