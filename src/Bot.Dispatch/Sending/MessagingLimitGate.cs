using Bot.Core.Employees;
using Bot.Core.Messaging;

namespace Bot.Dispatch;

/// <summary>
/// The portfolio's WhatsApp messaging limit (unique people reached per window by business-initiated messages): a
/// send outside the 24-hour window, or a template, first takes the employee's place in it.
/// </summary>
public sealed class MessagingLimitGate(MessagingLimit messagingLimit)
{
    /// <summary>
    /// Takes the employee's place in the portfolio's messaging limit; false (and the pass deferred to when a place
    /// frees) when it is full. Asked even once the pass found it full (the pipeline no longer starts business-initiated
    /// sends then): a send that took its place and gave its claim back (a missed slot, a retry) still has it.
    /// </summary>
    public async Task<bool> ReachAsync(Pass pass, Employee employee, DateTimeOffset now)
    {
        var portfolio = pass.Portfolio;
        if (!portfolio.IsLimited) return true;
        if (await messagingLimit.TryReachAsync(portfolio.Id, portfolio.MessagingLimit, portfolio.Window, employee.WhatsAppId, now) is not { } freesAt)
            return true;
        // Places free one by one as the window moves: look again a little later, when a batch of them has.
        pass.Defer(freesAt + portfolio.Window / 100);
        return false;
    }
}
