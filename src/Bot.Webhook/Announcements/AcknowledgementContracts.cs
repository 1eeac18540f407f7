using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using System.Xml;
using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;

namespace Bot.Webhook.Announcements;

/// <summary>
/// <c>acknowledgement: {required: true, remindAfter?: "PT4H", maxReminders?: 0..5}</c>. <c>remindAfter</c> is an ISO 8601
/// duration (days, hours, minutes, seconds) of at least 10 seconds; <c>maxReminders</c> defaults to 1 when
/// <c>remindAfter</c> is given.
/// </summary>
public sealed record AcknowledgementRequest(bool? Required, string? RemindAfter, int? MaxReminders);

/// <summary>An announcement's acknowledgement settings and its reminders' progress.</summary>
/// <param name="RemindAfter">ISO 8601 duration; null when it does not remind.</param>
/// <param name="RemindersSent">Reminder passes finished (each reminds who had not acknowledged by then).</param>
/// <param name="NextReminderAt">When the next reminder is due; null before sending completed and once none is left.</param>
public sealed record AcknowledgementResponse(
    bool Required,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RemindAfter,
    int MaxReminders,
    int RemindersSent,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NextReminderAt)
{
    public static AcknowledgementResponse? From(Announcement a)
    {
        if (a.Acknowledgement is not { } policy) return null;
        var next = a.AcknowledgementProgress?.NextReminder ?? 0;
        return new AcknowledgementResponse(true,
            policy.RemindAfter is { } after ? XmlConvert.ToString(after) : null,
            policy.MaxReminders,
            Math.Clamp(next - 1, 0, policy.MaxReminders),
            next <= policy.MaxReminders ? a.AcknowledgementProgress?.NextReminderAt : null);
    }
}

/// <summary>A target who has not tapped "Got it" yet, with what the employer needs to follow up by department.</summary>
public sealed record UnacknowledgedResponse(string EmployeeId, string? Name, string? Department, string? Location, string State, int Reminders);

public static partial class AcknowledgementValidation
{
    /// <summary>WhatsApp's limit for the text of a message with buttons, less the reminders' "Reminder: ".</summary>
    public static readonly int MaxMessageLength = 1024 - AcknowledgementPolicy.ReminderPrefix.Length;

    /// <summary>Days, hours, minutes and seconds only: months and years have no fixed length.</summary>
    [GeneratedRegex(@"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")]
    private static partial Regex Duration();

    private static TimeSpan? ParseDuration(string value)
    {
        if (!Duration().IsMatch(value)) return null;
        try
        {
            return XmlConvert.ToTimeSpan(value);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            return null; // P99999999999D: no TimeSpan holds it
        }
    }

    /// <summary>The policy asked for, or null (with the fields' errors added) when it is not valid or not asked for.</summary>
    public static AcknowledgementPolicy? Validate(AcknowledgementRequest? request, string? message, Dictionary<string, string[]> errors)
    {
        if (request is null) return null;
        var before = errors.Count;
        if (request.Required != true)
            errors["acknowledgement.required"] = ["acknowledgement.required is true; leave acknowledgement out when none is needed."];

        TimeSpan? remindAfter = null;
        if (request.RemindAfter is not null)
        {
            if (ParseDuration(request.RemindAfter) is not { } after)
                errors["acknowledgement.remindAfter"] = ["acknowledgement.remindAfter is an ISO 8601 duration such as PT4H or P1D."];
            else if (after < AcknowledgementPolicy.MinRemindAfter || after > AcknowledgementPolicy.MaxRemindAfter)
                errors["acknowledgement.remindAfter"] = ["acknowledgement.remindAfter is between PT10S and P7D."];
            else remindAfter = after;
        }

        var maxReminders = request.MaxReminders ?? (request.RemindAfter is null ? 0 : 1);
        if (maxReminders is < 0 or > AcknowledgementPolicy.MaxRemindersLimit)
            errors["acknowledgement.maxReminders"] = [$"acknowledgement.maxReminders is 0 to {AcknowledgementPolicy.MaxRemindersLimit}."];
        else if (maxReminders > 0 && request.RemindAfter is null)
            errors["acknowledgement.remindAfter"] = ["acknowledgement.remindAfter says when reminders go; it is required with maxReminders."];

        if (message is { Length: var length } && length > MaxMessageLength)
            errors["message"] = [$"With acknowledgement, message is at most {MaxMessageLength} characters: WhatsApp allows 1024 in a message with buttons, and reminders add \"{AcknowledgementPolicy.ReminderPrefix}\"."];
        return errors.Count == before ? new AcknowledgementPolicy(remindAfter, maxReminders) : null;
    }
}
