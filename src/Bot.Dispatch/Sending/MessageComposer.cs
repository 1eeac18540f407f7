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
    /// <summary>
    /// The announcement itself; its callback data names the delivery, so its status webhooks move the delivery record.
    /// Null when its template has no approved variant left for the employee (the announcement pauses; nobody fails).
    /// </summary>
    public static (string Form, OutgoingMessage? Message) Announcement(Pass pass, Employee employee, bool inWindow)
    {
        var announcement = pass.Announcement;
        var callbackData = new DeliveryRef(announcement.Id, employee.EmployeeId).Format();
        if (announcement.Template is { } t)
        {
            var language = pass.Content.Template is { } languages ? languages.For(employee.Attributes.Language) : t.Language;
            return (DeliveryForm.Template, language is null
                ? null
                : new TemplateMessage(employee.Phone, t.Name, language, t.Parameters, callbackData, AckPayloads(announcement),
                    PassContentReader.ToRef(t.Header)));
        }
        if (!inWindow && pass.Fallback is not null)
            return (DeliveryForm.Template, Fallback(pass, employee));
        if (pass.Content.Media is { } file)
            return (DeliveryForm.Text, new MediaMessage(employee.Phone, file, announcement.Message, callbackData));
        return (DeliveryForm.Text, TextOrButtons(employee.Phone, announcement, announcement.Message!, callbackData));
    }

    /// <summary>
    /// The announcement's text as the employer's fallback template (outside the window, and the 131047 re-send), in the
    /// employee's variant, with the announcement's file as its header.
    /// </summary>
    public static TemplateMessage Fallback(Pass pass, Employee employee) =>
        FallbackWith(pass, employee, pass.Announcement.Message!, new DeliveryRef(pass.Announcement.Id, employee.EmployeeId).Format());

    private static TemplateMessage FallbackWith(Pass pass, Employee employee, string text, string callbackData)
    {
        var fallback = pass.Fallback!;
        var language = pass.Content.Fallback?.For(employee.Attributes.Language) ?? fallback.Language;
        // The file goes as the header only where the approved variant has a header of its kind; WhatsApp refuses it otherwise.
        var header = pass.Content.Media is { } file && pass.Content.Fallback?.HeaderOf(language) == file.Type ? file : null;
        return new TemplateMessage(employee.Phone, fallback.Name, language, [text], callbackData, AckPayloads(pass.Announcement), header);
    }

    /// <summary>
    /// The announcement again, "Reminder: " before a text (a template goes as approved), with the same button. Its callback
    /// data is not a delivery reference, so its status webhooks leave the announcement's delivery record alone.
    /// </summary>
    public static OutgoingMessage Reminder(Pass pass, Employee employee, bool inWindow, int reminder)
    {
        var announcement = pass.Announcement;
        var callbackData = $"{new DeliveryRef(announcement.Id, employee.EmployeeId).Format()}:r{reminder}";
        if (announcement.Template is { } t)
            return new TemplateMessage(employee.Phone, t.Name, pass.Content.Template?.For(employee.Attributes.Language) ?? t.Language, t.Parameters,
                callbackData, AckPayloads(announcement), PassContentReader.ToRef(t.Header));
        var text = AcknowledgementPolicy.ReminderPrefix + announcement.Message;
        if (!inWindow && pass.Fallback is not null)
            return FallbackWith(pass, employee, text, callbackData);
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
