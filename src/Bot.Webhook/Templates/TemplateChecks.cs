using Bot.Core.Announcements;
using Bot.Core.Media;
using Bot.Core.Templates;
using Bot.WhatsAppClient;
using TemplateContent = Bot.Core.Announcements.TemplateContent;

namespace Bot.Webhook.Templates;

/// <summary>A file in a request: an uploaded media id or an https link (<c>{id}</c> or <c>{link}</c>; <c>mediaId</c> in a template header).</summary>
public sealed record MediaRequest(string? Id, string? Link, string? MediaId = null);

/// <summary>
/// What create checks against the sender's catalog and media (only when the sender has a WABA id: without one the
/// catalog is unknown and templates go as before): the template's name and language exist, it is APPROVED, the
/// parameter count matches, a media header gets a file of its kind; a media id is one of this sender's and valid when
/// the announcement is due; a text with a file has a fallback template with that media header.
/// </summary>
public sealed class TemplateChecks(SenderDirectory senders, TemplateCatalog catalog, MediaStore media)
{
    /// <summary>
    /// The catalog and media checks of a create request whose syntax is already right: the template (with its header
    /// file) and the message's file, or the errors naming <c>template.*</c> and <c>media</c>.
    /// </summary>
    public async Task<(TemplateContent? Template, MediaAttachment? File)> CheckAsync(
        string employerId, Announcements.CreateAnnouncementRequest request, TemplateContent? template, DateTimeOffset dueAt, bool recurring,
        Dictionary<string, string[]> errors)
    {
        if (template is not null) template = await CheckTemplateAsync(employerId, template, request.Template?.Header, dueAt, errors);
        if (request.Media is not { } file) return (template, null);
        if (request.Message is null)
            errors["media"] = ["media goes with a message, its caption; a template's file is template.header."];
        else if (request.Message.Length > MaxCaptionLength)
            errors["media"] = [$"With media the message is its caption: at most {MaxCaptionLength} characters."];
        else if (recurring)
            errors["media"] = ["media is not sent by recurring announcements: its id would expire before later occurrences."];
        else return (template, await CheckMediaAsync(employerId, file, dueAt, errors));
        return (template, null);
    }

    /// <summary>Stores the file under the announcement's id first, so a dispatcher that starts at once finds it.</summary>
    public static async Task<(CreateOutcome Outcome, string Id)> CreateWithMediaAsync(
        NewAnnouncement draft, MediaAttachment file, string id, AnnouncementStore announcements, MediaStore media, string senderId)
    {
        await media.AttachAsync(id, file);
        return await announcements.CreateAsync(id, draft, senderId);
    }

    /// <summary>WhatsApp's limit for a caption.</summary>
    public const int MaxCaptionLength = 1024;

    /// <summary>Checks <paramref name="template"/> (language may be empty: each employee's) and fills in its header file.</summary>
    public async Task<TemplateContent?> CheckTemplateAsync(
        string employerId, TemplateContent template, MediaRequest? header, DateTimeOffset dueAt, Dictionary<string, string[]> errors)
    {
        var sender = senders.ForEmployer(employerId);
        if (sender.WabaId is null)
        {
            if (template.Language.Length == 0) errors["template.language"] = ["template.language is required: this sender has no template catalog to choose each employee's from."];
            if (header is not null) errors["template.header"] = ["template.header needs the sender's template catalog (Senders:<id>:WabaId) to know the header's kind."];
            return template;
        }

        var variants = await catalog.VariantsAsync(sender.Id, template.Name);
        if (variants.Count == 0)
        {
            errors["template.name"] = [$"template.name '{template.Name}' is not in the catalog of this WhatsApp number."];
            return null;
        }

        var chosen = variants.Where(v => template.Language.Length == 0 || TemplateResolver.Normalize(v.Language) == TemplateResolver.Normalize(template.Language)).ToList();
        if (chosen.Count == 0)
        {
            errors["template.language"] = [$"template.language '{template.Language}': {template.Name} exists in {string.Join(", ", variants.Select(v => v.Language))}."];
            return null;
        }

        if (chosen.All(v => !v.IsApproved))
        {
            errors["template.name"] = [$"template.name '{template.Name}' is {string.Join(", ", chosen.Select(v => v.Status).Distinct())}, not APPROVED: WhatsApp would refuse it."];
            return null;
        }

        var variant = chosen.First(v => v.IsApproved);
        if (variant.Parameters != template.Parameters.Count)
            errors["template.parameters"] = [$"template.parameters: {template.Name} takes {variant.Parameters} parameters, {template.Parameters.Count} given."];
        var file = header is null ? null : await AttachmentAsync(sender, header, dueAt, "template.header", errors);
        if (TemplateHeader.IsMedia(variant.Header) && header is null)
            errors["template.header"] = [$"template.header: {template.Name} has a {variant.Header} header; give {{\"mediaId\"}} or {{\"link\"}}."];
        else if (file is not null && file.Kind != variant.Header)
            errors["template.header"] = [$"template.header is a {file.Kind}; {template.Name}'s header is {variant.Header}."];
        return template with { Header = file };
    }

    /// <summary>Checks a text announcement's file; with a catalog, the employer's fallback template must carry a header of its kind.</summary>
    public async Task<MediaAttachment?> CheckMediaAsync(string employerId, MediaRequest request, DateTimeOffset dueAt, Dictionary<string, string[]> errors)
    {
        var sender = senders.ForEmployer(employerId);
        var file = await AttachmentAsync(sender, request, dueAt, "media", errors);
        if (file is null || sender.WabaId is null || senders.FallbackTemplateOf(employerId) is not { } fallback) return file;
        var variants = await catalog.VariantsAsync(sender.Id, fallback.Name);
        if (variants.Count > 0 && variants.All(v => v.Header != file.Kind))
            errors["media"] = [$"media: outside the 24-hour window the file goes through the fallback template {fallback.Name}, which has no {file.Kind} header."];
        return file;
    }

    private async Task<MediaAttachment?> AttachmentAsync(Sender sender, MediaRequest request, DateTimeOffset dueAt, string field, Dictionary<string, string[]> errors)
    {
        var id = request.Id ?? request.MediaId;
        if (string.IsNullOrEmpty(id) == string.IsNullOrEmpty(request.Link))
        {
            errors[field] = [$"{field} is {{\"id\"}} (from POST /api/media) or {{\"link\"}} (an https URL), one of them."];
            return null;
        }

        if (id is not null)
        {
            if (await media.FindByIdAsync(sender.Id, id) is not { } uploaded)
                errors[field] = [$"{field}: media id '{Truncate(id)}' is unknown or expired for this WhatsApp number; upload the file with POST /api/media."];
            else if (uploaded.ExpiresAt <= dueAt)
                errors[field] = [$"{field}: media id '{Truncate(id)}' expires at {uploaded.ExpiresAt:O}, before the announcement is due; upload it again."];
            else return new MediaAttachment(KindOf(uploaded.ContentType)!, id, null, uploaded.FileName);
            return null;
        }

        if (!Uri.TryCreate(request.Link, UriKind.Absolute, out var link) || link.Scheme != Uri.UriSchemeHttps || KindOfPath(link.AbsolutePath) is not { } kind)
        {
            errors[field] = [$"{field}.link is an https URL of a .jpg, .png, .mp4 or .pdf file."];
            return null;
        }

        return new MediaAttachment(kind, null, link.ToString(), Path.GetFileName(link.AbsolutePath));
    }

    /// <summary>The kind (<see cref="TemplateHeader"/>) of a MIME type WhatsApp takes; null for others.</summary>
    public static string? KindOf(string contentType) => MediaRef.KindOf(contentType) switch
    {
        MediaKind.Image => TemplateHeader.Image,
        MediaKind.Document => TemplateHeader.Document,
        MediaKind.Video => TemplateHeader.Video,
        _ => null,
    };

    private static string? KindOfPath(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".jpg" or ".jpeg" or ".png" => TemplateHeader.Image,
        ".pdf" => TemplateHeader.Document,
        ".mp4" => TemplateHeader.Video,
        _ => null,
    };

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
