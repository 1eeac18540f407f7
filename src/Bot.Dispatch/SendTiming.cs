using Bot.Core.Announcements;
using Bot.Core.Employees;

namespace Bot.Dispatch;

/// <summary>
/// When an employee may get an announcement: at its <c>sendAtLocal</c> in the employee's zone (their own, else the
/// employer's <c>Employers:&lt;id&gt;:TimeZone</c>, else UTC), and — unless it is urgent — not inside the employer's quiet
/// hours in that zone. The fan-out holds an employee whose time has not come and looks at the announcement again at the
/// earliest such time; a held delivery is never claimed, so holding it cannot lose or double it.
/// </summary>
public sealed class SendTiming(EmployerTimings employers, TimeProvider time)
{
    /// <summary>When <paramref name="employee"/> may get <paramref name="announcement"/>; null when now.</summary>
    public DateTimeOffset? HeldUntil(Announcement announcement, Employee employee)
    {
        var now = time.GetUtcNow();
        var at = NotBefore(announcement, employee.Attributes.TimeZone, now);
        return at > now ? at : null;
    }

    /// <summary>The first instant at or after <paramref name="now"/> the employee may get the announcement.</summary>
    public DateTimeOffset NotBefore(Announcement announcement, string? employeeZone, DateTimeOffset now)
    {
        var employer = employers.For(announcement.EmployerId);
        var quiet = announcement.Urgent ? null : employer.QuietHours;
        if (announcement.SendAtLocal is null && quiet is null) return now;
        // An attribute the tz database does not know (it was validated against the system's) falls back like a missing one.
        var zone = WallClock.Zone(employeeZone) ?? employer.TimeZone;
        var at = now;
        if (announcement.SendAtLocal is { } local && WallClock.ToInstant(local, zone) is var localAt && localAt > at) at = localAt;
        if (quiet is not null) at = quiet.Release(at, zone);
        return at;
    }
}
