using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Core.Templates;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Webhook.Templates;

/// <summary>
/// Applies the template webhooks: the catalog of every sender of that WABA changes at once, and a status change
/// pauses (PAUSED, DISABLED) or resumes (APPROVED) the announcements of those senders that use the template — by name
/// or as their employer's fallback template. The announcements are found in the senders' due and in-flight queues
/// (only those can still send), so no index has to be kept in step with the lifecycle.
/// </summary>
public sealed partial class TemplateChanges(
    TemplateCatalog catalog, SenderDirectory senders, AnnouncementStore announcements, IDatabase db, IOptions<TemplatesOptions> options,
    TimeProvider time, ILogger<TemplateChanges> logger)
{
    public async Task ApplyAsync(IReadOnlyList<TemplateChange> changes)
    {
        foreach (var change in changes)
        {
            foreach (var sender in senders.All.Where(s => s.WabaId == change.WabaId))
            {
                await catalog.UpdateAsync(sender.Id, change.Name, change.Language, t => change.Field switch
                {
                    TemplateChange.StatusUpdate when change.Status is { } status => t with { Status = status },
                    TemplateChange.QualityUpdate when change.QualityScore is { } score => t with { QualityScore = score },
                    TemplateChange.CategoryUpdate when change.Category is { } category => t with { Category = category },
                    _ => t,
                });
                if (change.Field != TemplateChange.StatusUpdate) continue;
                if (TemplateStatus.StopsSends(change.Status)) await PauseUsersAsync(sender, change);
                else if (change.Status == TemplateStatus.Approved) await ResumeUsersAsync(sender, change.Name);
            }
        }
    }

    /// <summary>Announcements of the sender still to be sent (due or in flight) that send this template.</summary>
    public async Task<List<Announcement>> UsersAsync(Sender sender, string templateName)
    {
        var ids = (await db.SortedSetRangeByRankAsync(RedisKeys.Due(sender.Id)))
            .Concat(await db.SortedSetRangeByRankAsync(RedisKeys.InFlight(sender.Id)))
            .Select(v => (string)v!).Distinct(StringComparer.Ordinal);
        var users = new List<Announcement>();
        foreach (var id in ids)
        {
            if (await announcements.GetAsync(id) is { } a && Uses(a, templateName)) users.Add(a);
        }

        return users;
    }

    private bool Uses(Announcement a, string templateName) =>
        a.Template?.Name == templateName || a.Message is not null && senders.FallbackTemplateOf(a.EmployerId)?.Name == templateName;

    private async Task PauseUsersAsync(Sender sender, TemplateChange change)
    {
        var reason = TemplateAvailability.Reason(change.Name, change.Status!);
        var until = time.GetUtcNow() + options.Value.PauseFor;
        foreach (var a in await UsersAsync(sender, change.Name))
        {
            // Only a dispatching announcement has sends to stop; a scheduled one meets the paused template when it starts.
            if (await announcements.Lifecycle.PauseAsync(a.Id, reason, until)) LogPaused(a.Id, change.Name, change.Status!);
        }
    }

    private async Task ResumeUsersAsync(Sender sender, string templateName)
    {
        foreach (var a in await UsersAsync(sender, templateName))
        {
            if (a is { Status: AnnouncementStatus.Paused } && TemplateAvailability.IsTemplateReason(a.Reason) &&
                await announcements.ResumeNowAsync(a.EmployerId, a.Id)) LogResumed(a.Id, templateName);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Announcement {Id} paused: template {Template} is {Status}")]
    private partial void LogPaused(string id, string template, string status);

    [LoggerMessage(LogLevel.Information, "Announcement {Id} resumed: template {Template} is approved again")]
    private partial void LogResumed(string id, string template);
}
