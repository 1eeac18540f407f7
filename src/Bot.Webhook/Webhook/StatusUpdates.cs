using Bot.Core;
using Bot.Core.Deliveries;
using Bot.WhatsAppClient;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Applies WhatsApp status updates to deliveries. Statuses come duplicated, reordered (a 'read' may come
/// before its 'delivered', or alone) and up to 1,000 in one POST; the transition script only ever moves a
/// delivery forward, so applying them in any order ends in the furthest state. The Redis work for a whole POST
/// is three pipelines: claim the event ids, look up message ids that came without callback data, transition.
/// </summary>
public sealed partial class StatusUpdates(WebhookEventLog events, DeliveryStore deliveries, TimeProvider time, ILogger<StatusUpdates> logger)
{
    public async Task ApplyAsync(IReadOnlyList<WebhookStatus> statuses)
    {
        var candidates = new List<(WebhookStatus Status, DeliveryState State, string EventId)>();
        foreach (var status in statuses)
        {
            if (ToState(status.Status) is not { } state || !WebhookEventLog.IsValidId(status.Id)) continue;
            // One message legitimately gets sent, delivered and read under the same id: the event is id + status.
            candidates.Add((status, state, $"{status.Id}:{status.Status}"));
        }
        if (candidates.Count == 0) return;

        var fresh = await events.TryBeginAsync([.. candidates.Select(c => c.EventId)]);
        var work = candidates.Where((_, i) => fresh[i]).ToList();
        if (work.Count == 0) return;
        try
        {
            await ApplyFreshAsync(work);
        }
        catch
        {
            await events.ForgetAsync([.. work.Select(w => w.EventId)]);
            throw;
        }
    }

    private async Task ApplyFreshAsync(List<(WebhookStatus Status, DeliveryState State, string EventId)> work)
    {
        var targets = work.Select(w => DeliveryRef.ParseOrNull(w.Status.BizOpaqueCallbackData)).ToArray();
        var lookups = Enumerable.Range(0, work.Count).Where(i => targets[i] is null).ToArray();
        var found = await deliveries.FindByMessageIdsAsync([.. lookups.Select(i => work[i].Status.Id!)]);
        for (var j = 0; j < lookups.Length; j++) targets[lookups[j]] = found[j];

        var now = time.GetUtcNow();
        var transitions = new List<DeliveryTransition>(work.Count);
        for (var i = 0; i < work.Count; i++)
        {
            if (targets[i] is not { } target) continue;
            var (announcementId, employeeId) = target;
            var (status, state, _) = work[i];
            var error = state == DeliveryState.Failed ? ErrorCode(status) : null;
            transitions.Add(new DeliveryTransition(announcementId, employeeId, new DeliveryRecord(state, now, status.Id, error)));
        }
        var applied = await deliveries.TransitionManyAsync(transitions);
        LogApplied(work.Count, transitions.Count, applied.Count(a => a));
    }

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

    [LoggerMessage(LogLevel.Debug, "Status updates: {Fresh} new, {Matched} matched a delivery, {Applied} moved one forward")]
    private partial void LogApplied(int fresh, int matched, int applied);
}
