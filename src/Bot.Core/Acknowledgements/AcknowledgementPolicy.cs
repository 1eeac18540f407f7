using System.Diagnostics.CodeAnalysis;

namespace Bot.Core.Acknowledgements;

/// <summary>
/// An announcement whose employees must tap "Got it": the message carries a quick-reply button with id (or, in a
/// template, payload) <c>ack:&lt;announcementId&gt;</c>. Up to <see cref="MaxReminders"/> reminders go to the targets
/// who have not tapped: the first <see cref="RemindAfter"/> after the announcement's sending completed, each next one
/// <see cref="RemindAfter"/> after the previous reminder pass finished, so nobody gets two messages closer together
/// than that.
/// </summary>
public sealed record AcknowledgementPolicy(TimeSpan? RemindAfter, int MaxReminders)
{
    public const string ButtonTitle = "Got it";

    /// <summary>Reminders say so before a text; a template is sent as it is (its wording is approved by Meta).</summary>
    public const string ReminderPrefix = "Reminder: ";

    public static readonly TimeSpan MinRemindAfter = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxRemindAfter = TimeSpan.FromDays(7);
    public const int MaxRemindersLimit = 5;

    private const string ButtonPrefix = "ack:";

    public bool Reminds => RemindAfter is not null && MaxReminders > 0;

    /// <summary>The id (interactive button) and payload (template quick reply) a tap echoes back.</summary>
    public static string ButtonId(string announcementId) => ButtonPrefix + announcementId;

    /// <summary>The announcement a tapped button acknowledges; false for any other button or text.</summary>
    public static bool TryParseButtonId([NotNullWhen(true)] string? value, [NotNullWhen(true)] out string? announcementId)
    {
        announcementId = value is not null && value.StartsWith(ButtonPrefix, StringComparison.Ordinal) && Ids.IsValid(value[ButtonPrefix.Length..])
            ? value[ButtonPrefix.Length..]
            : null;
        return announcementId is not null;
    }
}

/// <summary>How far an announcement's acknowledgement got: taps, reminder sends, and the reminder that comes next.</summary>
/// <param name="NextReminder">The number (1-based) of the next reminder; past <see cref="AcknowledgementPolicy.MaxReminders"/> when all went.</param>
/// <param name="NextReminderAt">When it is due; null before the announcement's sending completed or once none is left.</param>
public sealed record AcknowledgementProgress(long Acknowledged, long Reminded, int NextReminder, DateTimeOffset? NextReminderAt);
