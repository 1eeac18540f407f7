using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Learns employees' BSUIDs from the statuses of messages sent to them (<c>recipient_user_id</c>, the delivery found
/// by its callback data). A POST carries up to 1,000 statuses, mostly of BSUIDs already known: the employers of the
/// announcements and the stored BSUIDs are read in two pipelined round trips, and only a new or changed one is written.
/// </summary>
public sealed class StatusUserIds(IDatabase db, WhatsAppUserIds userIds)
{
    public async Task LearnAsync(string portfolioId, IReadOnlyList<(DeliveryRef Delivery, string UserId)> reported)
    {
        var work = reported.Where(r => WhatsAppUserIds.IsValid(r.UserId)).DistinctBy(r => r.Delivery).ToList();
        if (work.Count == 0) return;
        var announcements = work.Select(r => r.Delivery.AnnouncementId).Distinct().ToArray();
        var batch = db.CreateBatch();
        var reads = announcements.Select(id => batch.HashGetAsync(RedisKeys.Announcement(id), "employerId")).ToArray();
        batch.Execute();
        var employerOf = announcements.Zip(await Task.WhenAll(reads)).Where(p => !p.Second.IsNull).ToDictionary(p => p.First, p => (string)p.Second!);

        foreach (var byEmployer in work.Where(r => employerOf.ContainsKey(r.Delivery.AnnouncementId))
                     .GroupBy(r => employerOf[r.Delivery.AnnouncementId]))
        {
            var items = byEmployer.DistinctBy(r => r.Delivery.EmployeeId).ToList();
            var known = await userIds.InPortfolioAsync(byEmployer.Key, [.. items.Select(r => r.Delivery.EmployeeId)], portfolioId);
            for (var i = 0; i < items.Count; i++)
            {
                if (known[i] != items[i].UserId) await userIds.LearnAsync(byEmployer.Key, items[i].Delivery.EmployeeId, portfolioId, items[i].UserId);
            }
        }
    }
}
