using Bot.Core.Announcements;
using Bot.Core.Employees;
using Bot.Core.Messaging;
using Bot.WhatsAppClient;

namespace Bot.Webhook.Announcements;

/// <summary>
/// What sending an announcement would meet, before it is sent: how many employees it targets, how many are outside
/// WhatsApp's 24-hour window (they get the fallback template, or — without one — a text WhatsApp will fail with
/// 131047), how many would go over the portfolio's messaging limit, and when it should be done.
/// </summary>
public sealed record PreviewResponse(long Targeted, long OutsideWindow, long OverMessagingLimit, DateTimeOffset EstimatedCompletion);

public sealed class AnnouncementPreview(EmployeeStore employees, SenderDirectory senders, MessagingLimit messagingLimit, TimeProvider time)
{
    private const int Chunk = 1000;

    /// <summary>The sender the employer's announcements go out from now.</summary>
    public string SenderOf(string employerId) => senders.ForEmployer(employerId).Id;

    public async Task<PreviewResponse> PreviewAsync(string employerId, Bot.Core.Announcements.TemplateContent? template, DateTimeOffset? sendAt,
        IReadOnlyList<string>? employeeIds, AudienceFilter? audience)
    {
        var now = time.GetUtcNow();
        var start = sendAt is { } at && at > now ? at : now;
        var sender = senders.ForEmployer(employerId);
        var portfolio = senders.PortfolioOf(sender);
        long targeted = 0, active = 0, outsideWindow = 0, newlyReached = 0;
        long used = 0;
        await foreach (var chunk in (employeeIds?.ToAsyncEnumerable() ?? employees.AudienceAsync(employerId, audience)).Chunk(Chunk))
        {
            targeted += chunk.Length;
            var people = (await employees.GetManyAsync(employerId, chunk, sender.Id)).OfType<Employee>().Where(e => e.Status == EmployeeStatus.Active).ToList();
            active += people.Count;
            var outside = people.Where(e => !e.InWindow(start, senders.CustomerServiceWindow)).ToList();
            outsideWindow += outside.Count;
            if (!portfolio.IsLimited) continue;
            // Business-initiated: every template, and a text to anyone outside the window.
            var business = template is not null ? people : outside;
            var (usedNow, reached) = await messagingLimit.UsageAsync(portfolio.Id, portfolio.Window, [.. business.Select(e => e.WhatsAppId)], now);
            used = usedNow;
            newlyReached += reached.Count(r => !r);
        }
        var over = portfolio.IsLimited ? Math.Max(0, newlyReached - Math.Max(0, portfolio.MessagingLimit - used)) : 0;
        // At the sender's cap, plus one messaging-limit window for every limit's worth that does not fit now.
        var estimate = start + TimeSpan.FromSeconds((double)active / sender.MessagesPerSecond)
            + (over > 0 ? portfolio.Window * Math.Ceiling((double)over / portfolio.MessagingLimit) : TimeSpan.Zero);
        return new PreviewResponse(targeted, outsideWindow, over, estimate);
    }
}
