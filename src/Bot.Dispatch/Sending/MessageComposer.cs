using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.WhatsAppClient;

namespace Bot.Dispatch;

/// <summary>
/// What one employee is sent: the announcement's template; else its text inside the employee's 24-hour window with the
/// sender, outside it the employer's fallback template (text when it has none: WhatsApp then fails it with 131047). With
/// the "Got it" button when the announcement asks for acknowledgement.
/// </summary>
public static class MessageComposer
{
    /// <summary>The announcement itself; its callback data names the delivery, so its status webhooks move the delivery record.</summary>
    public static (string Form, OutgoingMessage Message) Announcement(Pass pass, Employee employee, bool inWindow)
    {
        var announcement = pass.Announcement;
        var callbackData = new DeliveryRef(announcement.Id, employee.EmployeeId).Format();
        if (announcement.Template is { } t)
            return (DeliveryForm.Template, new TemplateMessage(employee.Phone, t.Name, t.Language, t.Parameters, callbackData, AckPayloads(announcement)));
        if (!inWindow && pass.Fallback is { } fallback)
            return (DeliveryForm.Template, Fallback(employee, announcement, fallback));
        return (DeliveryForm.Text, TextOrButtons(employee.Phone, announcement, announcement.Message!, callbackData));
    }

    /// <summary>The announcement's text as the employer's fallback template (the 131047 re-send).</summary>
    public static TemplateMessage Fallback(Employee employee, Announcement announcement, FallbackTemplate fallback) =>
        new(employee.Phone, fallback.Name, fallback.Language, [announcement.Message!], new DeliveryRef(announcement.Id, employee.EmployeeId).Format(),
            AckPayloads(announcement));

    /// <summary>
    /// The announcement again, "Reminder: " before a text (a template goes as approved), with the same button. Its callback
    /// data is not a delivery reference, so its status webhooks leave the announcement's delivery record alone.
    /// </summary>
    public static OutgoingMessage Reminder(Pass pass, Employee employee, bool inWindow, int reminder)
    {
        var announcement = pass.Announcement;
        var callbackData = $"{new DeliveryRef(announcement.Id, employee.EmployeeId).Format()}:r{reminder}";
        if (announcement.Template is { } t)
            return new TemplateMessage(employee.Phone, t.Name, t.Language, t.Parameters, callbackData, AckPayloads(announcement));
        var text = AcknowledgementPolicy.ReminderPrefix + announcement.Message;
        if (!inWindow && pass.Fallback is { } fallback)
            return new TemplateMessage(employee.Phone, fallback.Name, fallback.Language, [text], callbackData, AckPayloads(announcement));
        return TextOrButtons(employee.Phone, announcement, text, callbackData);
    }

    /// <summary>The quick-reply payloads a message of this announcement carries: the acknowledgement button's, or none.</summary>
    private static string[]? AckPayloads(Announcement announcement) =>
        announcement.Acknowledgement is null ? null : [AcknowledgementPolicy.ButtonId(announcement.Id)];

    /// <summary>A free-form message: text, or text with the "Got it" button when the announcement asks for acknowledgement.</summary>
    private static OutgoingMessage TextOrButtons(string to, Announcement announcement, string text, string callbackData) =>
        announcement.Acknowledgement is null
            ? new TextMessage(to, text, callbackData)
            : new ButtonsMessage(to, text, [new ReplyButton(AcknowledgementPolicy.ButtonId(announcement.Id), AcknowledgementPolicy.ButtonTitle)], callbackData);
}
