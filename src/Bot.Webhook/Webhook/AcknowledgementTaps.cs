using Bot.Core.Acknowledgements;
using Bot.Core.Employees;

namespace Bot.Webhook.Webhook;

/// <summary>
/// A "Got it" tap: <c>interactive.button_reply.id</c> (the button of a free-form message) or <c>button.payload</c> (a
/// template's quick reply) of <c>ack:&lt;announcementId&gt;</c>. It counts for the employees the message came from (found
/// by number on the number it was sent to) when the announcement asks for acknowledgement and they are among its
/// targets; anything else is ignored without an answer. The first tap's time is kept, so a redelivered webhook or a
/// second tap changes nothing.
/// </summary>
public sealed partial class AcknowledgementTaps(AcknowledgementStore acknowledgements, TimeProvider time, ILogger<AcknowledgementTaps> logger)
{
    /// <summary>The announcement a message acknowledges; null when it is no acknowledgement tap.</summary>
    public static string? AnnouncementOf(WebhookMessage message)
    {
        var value = message.Type switch
        {
            "interactive" => message.Interactive?.ButtonReply?.Id,
            "button" => message.Button?.Payload,
            _ => null,
        };
        return AcknowledgementPolicy.TryParseButtonId(value, out var announcementId) ? announcementId : null;
    }

    public async Task RecordAsync(string announcementId, WebhookMessage message, IEnumerable<(string EmployerId, Employee Employee)> owners)
    {
        // When the employee tapped, never later than now: the inbox may work the webhook off a while after it came.
        var now = time.GetUtcNow();
        var at = long.TryParse(message.Timestamp, out var seconds) && seconds > 0 && seconds < now.ToUnixTimeSeconds()
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : now;
        foreach (var (employerId, employee) in owners)
        {
            var outcome = await acknowledgements.RecordTapAsync(employerId, announcementId, employee.EmployeeId, at);
            LogTap(announcementId, employerId, employee.EmployeeId, outcome);
        }
    }

    [LoggerMessage(LogLevel.Debug, "Acknowledgement tap for announcement {AnnouncementId} by {EmployerId}/{EmployeeId}: {Outcome}")]
    private partial void LogTap(string announcementId, string employerId, string employeeId, TapOutcome outcome);
}
