using Bot.Core.Announcements;
using Bot.Dispatch;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Bot.Tests.Announcements;

/// <summary>When the fan-out may send to an employee: the instants it holds deliveries until, for local time and quiet hours.</summary>
public sealed class SendTimingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 23, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Asia/Tokyo", "2026-12-24T00:00:00Z")]
    [InlineData("UTC", "2026-12-24T09:00:00Z")]
    [InlineData("America/New_York", "2026-12-24T14:00:00Z")]
    [InlineData(null, "2026-12-24T08:00:00Z")] // the employer's zone, Europe/Berlin
    [InlineData("Pacific/Kiritimati", "2026-12-23T19:00:00Z")] // UTC+14: the announcement's own due time
    public void SendAtLocalIsNineOClockInTheEmployeesZone(string? zone, string expected)
    {
        var timing = Timing(new EmployerTimingOptions { TimeZone = "Europe/Berlin" });

        var at = timing.NotBefore(Announcement(local: new DateTime(2026, 12, 24, 9, 0, 0)), zone, Now);

        Assert.Equal(DateTimeOffset.Parse(expected), at);
    }

    [Fact]
    public void AWallClockTimeThatHasPassedInAZoneGoesAtOnce()
    {
        var timing = Timing(new EmployerTimingOptions());

        // 09:00 on the 23rd has passed in Tokyo and in UTC by 12:00 UTC, not yet in New York.
        var announcement = Announcement(local: new DateTime(2026, 12, 23, 9, 0, 0));
        Assert.Equal(Now, timing.NotBefore(announcement, "Asia/Tokyo", Now));
        Assert.Equal(Now, timing.NotBefore(announcement, "UTC", Now));
        Assert.Equal(new DateTimeOffset(2026, 12, 23, 14, 0, 0, TimeSpan.Zero), timing.NotBefore(announcement, "America/New_York", Now));
    }

    [Theory]
    [InlineData("2026-12-23T22:30:00Z", "2026-12-24T06:00:00Z")] // 23:30 in Berlin: until 07:00 the next morning
    [InlineData("2026-12-24T05:59:00Z", "2026-12-24T06:00:00Z")] // 06:59: one minute
    [InlineData("2026-12-24T06:00:00Z", "2026-12-24T06:00:00Z")] // 07:00: the end is not quiet
    [InlineData("2026-12-23T19:59:00Z", "2026-12-23T19:59:00Z")] // 20:59: not yet quiet
    [InlineData("2027-03-27T23:00:00Z", "2027-03-28T05:00:00Z")] // the night clocks go forward: 07:00 CEST is 05:00 UTC
    public void QuietHoursHoldNonUrgentDeliveriesUntilTheyEndInTheEmployeesZone(string now, string expected)
    {
        var timing = Timing(new EmployerTimingOptions { TimeZone = "Europe/Berlin", QuietHours = "21:00-07:00" });
        var at = DateTimeOffset.Parse(now);

        Assert.Equal(DateTimeOffset.Parse(expected), timing.NotBefore(Announcement(), null, at));
        Assert.Equal(at, timing.NotBefore(Announcement(urgent: true), null, at));
    }

    [Fact]
    public void ALocalTimeInsideQuietHoursWaitsForTheirEnd()
    {
        var timing = Timing(new EmployerTimingOptions { QuietHours = "21:00-07:00" });

        var at = timing.NotBefore(Announcement(local: new DateTime(2026, 12, 24, 6, 0, 0)), "Asia/Tokyo", Now);

        // 06:00 in Tokyo is quiet: 07:00 Tokyo time, 22:00 UTC the day before.
        Assert.Equal(new DateTimeOffset(2026, 12, 23, 22, 0, 0, TimeSpan.Zero), at);
    }

    [Theory]
    [InlineData("21:00-07:00", true)]
    [InlineData("12:00-13:30", true)]
    [InlineData("21:00", false)]
    [InlineData("21:00-21:00", false)]
    [InlineData("9pm-7am", false)]
    [InlineData("21:00-24:00", false)]
    public void QuietHoursParse(string text, bool valid) => Assert.Equal(valid, QuietHours.Parse(text) is not null);

    private static SendTiming Timing(EmployerTimingOptions employer)
    {
        var settings = new EmployerTimingSettings { Employers = { ["acme"] = employer } };
        return new SendTiming(new EmployerTimings(new FixedMonitor<EmployerTimingSettings>(settings)), new FakeTimeProvider(Now));
    }

    private static Announcement Announcement(DateTime? local = null, bool urgent = false) =>
        new("a1", "acme", AnnouncementStatus.Dispatching, Now, Now, "hello", null, true, new DeliveryCounts(0, 0, 0, 0, 0, 0, 0),
            Urgent: urgent, SendAtLocal: local);

    private sealed class FixedMonitor<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
