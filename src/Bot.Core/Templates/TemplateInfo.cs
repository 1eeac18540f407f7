namespace Bot.Core.Templates;

/// <summary>Graph's template statuses (WHATSAPP.md, "Template management").</summary>
public static class TemplateStatus
{
    public const string Approved = "APPROVED";
    public const string Paused = "PAUSED";
    public const string Disabled = "DISABLED";

    /// <summary>Statuses that stop sends of the template (132015 / 132016): announcements using it pause.</summary>
    public static bool StopsSends(string? status) => status is Paused or Disabled;
}

/// <summary>Header kinds of a template as the API shows them.</summary>
public static class TemplateHeader
{
    public const string None = "none";
    public const string Text = "text";
    public const string Image = "image";
    public const string Document = "document";
    public const string Video = "video";

    /// <summary>Whether a send must carry a file for this header.</summary>
    public static bool IsMedia(string header) => header is Image or Document or Video;
}

/// <summary>
/// One template variant (a name in one language) of a sender's catalog, as synced from Graph and changed by the
/// template webhooks: what create-time checks, the per-employee language choice and <c>GET /api/templates</c> need.
/// </summary>
/// <param name="Id">Graph's template id (webhooks name it).</param>
/// <param name="Language">Graph's language code: <c>de</c>, <c>en_US</c>, <c>pt_BR</c>.</param>
/// <param name="Status">APPROVED, PENDING, REJECTED, PAUSED, DISABLED, IN_APPEAL, LIMIT_EXCEEDED.</param>
/// <param name="Category">UTILITY, MARKETING or AUTHENTICATION.</param>
/// <param name="QualityScore">GREEN, YELLOW, RED or UNKNOWN.</param>
/// <param name="Parameters">How many body parameters ({{1}}…) a send must fill.</param>
/// <param name="Header">One of <see cref="TemplateHeader"/>.</param>
/// <param name="QuickReply">The template has quick-reply buttons.</param>
/// <param name="Body">The body text with its placeholders, for previews.</param>
public sealed record TemplateInfo(
    string Id, string Name, string Language, string Status, string Category, string QualityScore, int Parameters, string Header, bool QuickReply,
    string? Body = null)
{
    public bool IsApproved => Status == TemplateStatus.Approved;
}
