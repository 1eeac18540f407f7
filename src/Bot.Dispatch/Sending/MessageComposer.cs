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
    /// Null when its template has no approved variant left for the employee (the announcement pauses; nobody fails). Its
    /// body is the pass's, serialized once per kind and language (<see cref="Pass.Body"/>), with the employee spliced in.
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
                : new PreparedMessage(employee.Phone, pass.Body(TemplateBody, language, TemplateShape), callbackData));
        }
        if (!inWindow && pass.Fallback is not null)
            return (DeliveryForm.Template, new PreparedMessage(employee.Phone, pass.Body(FallbackBody, FallbackLanguage(pass, employee), FallbackShape), callbackData));
        return (DeliveryForm.Text, new PreparedMessage(employee.Phone, pass.Body(TextBody, null, TextShape), callbackData));
    }

    /// <summary>The template a message is (prepared or not), for its name and language; null for a free-form one.</summary>
    public static TemplateMessage? TemplateOf(OutgoingMessage message) =>
        message as TemplateMessage ?? (message as PreparedMessage)?.Body.Source as TemplateMessage;

    private const string TemplateBody = "template", FallbackBody = "fallback", TextBody = "text";

    // The announcement's message without a recipient: what every employee of the pass (in one language) gets.
    private static readonly Func<Pass, string?, OutgoingMessage> TemplateShape = static (pass, language) =>
    {
        var t = pass.Announcement.Template!;
        return new TemplateMessage("", t.Name, language!, t.Parameters, null, AckPayloads(pass.Announcement), PassContentReader.ToRef(t.Header));
    };

    private static readonly Func<Pass, string?, OutgoingMessage> FallbackShape = static (pass, language) =>
        FallbackWith(pass, language!, pass.Announcement.Message!, "", null);

    private static readonly Func<Pass, string?, OutgoingMessage> TextShape = static (pass, _) => pass.Content.Media is { } file
        ? new MediaMessage("", file, pass.Announcement.Message, null)
        : TextOrButtons("", pass.Announcement, pass.Announcement.Message!, null);

    /// <summary>
    /// The announcement's text as the employer's fallback template (outside the window, and the 131047 re-send), in the
    /// employee's variant, with the announcement's file as its header.
    /// </summary>
    public static TemplateMessage Fallback(Pass pass, Employee employee) =>
        FallbackWith(pass, FallbackLanguage(pass, employee), pass.Announcement.Message!, employee.Phone,
            new DeliveryRef(pass.Announcement.Id, employee.EmployeeId).Format());

    private static string FallbackLanguage(Pass pass, Employee employee) =>
        pass.Content.Fallback?.For(employee.Attributes.Language) ?? pass.Fallback!.Language;

    private static TemplateMessage FallbackWith(Pass pass, string language, string text, string to, string? callbackData)
    {
        // The file goes as the header only where the approved variant has a header of its kind; WhatsApp refuses it otherwise.
        var header = pass.Content.Media is { } file && pass.Content.Fallback?.HeaderOf(language) == file.Type ? file : null;
        return new TemplateMessage(to, pass.Fallback!.Name, language, [text], callbackData, AckPayloads(pass.Announcement), header);
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
            return FallbackWith(pass, FallbackLanguage(pass, employee), text, employee.Phone, callbackData);
        return TextOrButtons(employee.Phone, announcement, text, callbackData);
    }

    /// <summary>The quick-reply payloads a message of this announcement carries: the acknowledgement button's, or none.</summary>
    private static string[]? AckPayloads(Announcement announcement) =>
        announcement.Acknowledgement is null ? null : [AcknowledgementPolicy.ButtonId(announcement.Id)];

    /// <summary>A free-form message: text, or text with the "Got it" button when the announcement asks for acknowledgement.</summary>
    private static OutgoingMessage TextOrButtons(string to, Announcement announcement, string text, string? callbackData) =>
        announcement.Acknowledgement is null
            ? new TextMessage(to, text, callbackData)
            : new ButtonsMessage(to, text, [new ReplyButton(AcknowledgementPolicy.ButtonId(announcement.Id), AcknowledgementPolicy.ButtonTitle)], callbackData);
}
