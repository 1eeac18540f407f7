using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.WhatsAppClient;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Applies WhatsApp status updates to deliveries. Statuses come duplicated, reordered (a 'read' may come
/// before its 'delivered', or alone) and up to 1,000 in one POST; the transition script only ever moves a
/// delivery forward, so applying them in any order, and any number of times, ends in the furthest state: no
/// dedupe is needed, and the inbox may process a POST again after a crash. The Redis work for a whole POST is
/// one pipeline of transitions. A status naming the recipient's
/// BSUID (<c>recipient_user_id</c>) teaches it for the employee (<see cref="StatusUserIds"/>).
/// </summary>
public sealed partial class StatusUpdates(
    DeliveryStore deliveries, AnnouncementQueues queues, StatusUserIds userIds, SenderDirectory senders, TimeProvider time, ILogger<StatusUpdates> logger)
{
    /// <param name="senderId">The sender whose number the statuses are about: a re-send waits in its queue.</param>
    /// <param name="statuses">The statuses of one webhook change.</param>
    public async Task ApplyAsync(string senderId, IReadOnlyList<WebhookStatus> statuses)
    {
        var work = new List<(WebhookStatus Status, DeliveryState State)>();
        foreach (var status in statuses)
        {
            if (ToState(status.Status) is { } state && WebhookEventLog.IsValidId(status.Id)) work.Add((status, state));
        }
        if (work.Count == 0) return;

        // Every send carries its delivery as biz_opaque_callback_data, and WhatsApp echoes it in each status.
        var targets = work.Select(w => DeliveryRef.ParseOrNull(w.Status.BizOpaqueCallbackData)).ToArray();

        var now = time.GetUtcNow();
        var transitions = new List<DeliveryTransition>(work.Count);
        var resends = new List<DeliveryRef>();
        var reportedUserIds = new List<(DeliveryRef, string)>();
        for (var i = 0; i < work.Count; i++)
        {
            if (targets[i] is not { } target) continue;
            var (announcementId, employeeId) = target;
            var (status, state) = work[i];
            var error = state == DeliveryState.Failed ? ErrorCode(status) : null;
            transitions.Add(new DeliveryTransition(announcementId, employeeId, new DeliveryRecord(state, now, status.Id, error)));
            if (error == OutsideWindowError) resends.Add(target);
            if (status.RecipientUserId is { } userId) reportedUserIds.Add((target, userId));
        }
        var applied = await deliveries.TransitionManyAsync(transitions);
        // Queued whether or not this call moved the delivery: after a crash right here, processing the POST again
        // moves nothing but must still queue the re-send. The dispatcher re-sends only a text that failed this way.
        await queues.Of(senderId).AddResendsAsync(resends);
        await userIds.LearnAsync(senders.Get(senderId).Portfolio, reportedUserIds);
        LogApplied(work.Count, transitions.Count, applied.Count(a => a));
    }

    /// <summary>More than 24 hours since the employee's last message: free-form text cannot go, a template can.</summary>
    private const string OutsideWindowError = "131047";

    private static DeliveryState? ToState(string? status) => status switch
    {
        "sent" => DeliveryState.Sent,
        "delivered" => DeliveryState.Delivered,
        "read" => DeliveryState.Read,
        "failed" => DeliveryState.Failed,
        _ => null, // 'played' (voice) and anything Meta adds later
    };

    private static string ErrorCode(WebhookStatus status) =>
        status.Errors?.FirstOrDefault(e => e?.Code is not null)?.Code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown";

    [LoggerMessage(LogLevel.Debug, "Status updates: {Received} received, {Matched} matched a delivery, {Applied} moved one forward")]
    private partial void LogApplied(int received, int matched, int applied);
}
