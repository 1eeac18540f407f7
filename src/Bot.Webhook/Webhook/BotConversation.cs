using Bot.Core.Employees;
using Bot.Core.Redis;
using Bot.WhatsAppClient;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// What employees can say to the bot: <c>JOIN &lt;code&gt;</c>, <c>STOP</c>, <c>START</c>, and anything else gets
/// the help text. A message reaches one of our numbers (a <see cref="Sender"/>) and acts only on employees of the
/// employers on that number: STOP to employer A's bot leaves the same person subscribed at employer B. The person is
/// found by WhatsApp id first, then by number; a message whose number WhatsApp withholds (a user with a username), by
/// the BSUID it carries, and answered at that BSUID. A BSUID that comes with a number is learned for the employees of
/// that number. Every message opens the employee's 24-hour window with that number.
/// Runs from the inbox, at least once per message: each message's effect is idempotent, its reply is queued once
/// (<see cref="ReplyOutbox"/>), and the message is marked done only after both.
/// </summary>
public sealed partial class BotConversation(
    WebhookEventLog events,
    EmployeeStore employees,
    WhatsAppUserIds userIds,
    SystemMessages systemMessages,
    JoinCodeStore joinCodes,
    ReplyOutbox outbox,
    SenderDirectory senders,
    AcknowledgementTaps taps,
    IDatabase db,
    TimeProvider time,
    ILogger<BotConversation> logger)
{
    /// <summary>Meta batches at most 1,000 updates per POST; more is not a payload Meta sent.</summary>
    public const int MaxMessagesPerPost = 1000;

    /// <summary>A stranger gets the "not registered" reply at most once per this period.</summary>
    public static readonly TimeSpan NotRegisteredReplyInterval = TimeSpan.FromHours(1);

    /// <summary>Refused JOINs per number per hour before the bot stops answering them (codes cannot be guessed by brute force).</summary>
    public const int MaxJoinFailuresPerHour = 10;

    public const string HelpText =
        "This number sends your employer's announcements. Reply STOP to stop receiving them, START to receive them again, " +
        "or JOIN followed by the code from your employer to link this number to your employee profile.";
    public const string StoppedText = "You will no longer receive announcements here. Reply START to receive them again.";
    public const string StartedText = "You will receive announcements here again. Reply STOP to stop.";
    public const string NotRegisteredText =
        "Sorry, this number is not registered with any employer. If you are an employee, ask your employer for a join code and send JOIN followed by the code.";
    public const string JoinedText = "This number is now linked to your employee profile: announcements will come here. Reply STOP to stop receiving them.";
    public const string BadCodeText = "That join code is not valid: it may have expired or been used already. Ask your employer for a new code.";
    public const string PhoneTakenText = "This number already belongs to another employee of your employer, so it was not linked. Please contact your employer.";

    public async Task HandleAsync(Sender sender, IReadOnlyList<WebhookMessage> messages, IReadOnlyList<WebhookContact> contacts)
    {
        var candidates = messages.Take(MaxMessagesPerPost)
            .Where(m => WebhookEventLog.IsValidId(m.Id))
            .Select(m => (Message: m, Author: InboundAuthor.Of(m, contacts)))
            .Where(m => m.Author is not null)
            .ToList();
        if (candidates.Count == 0) return;
        var done = await events.AreDoneAsync([.. candidates.Select(m => m.Message.Id!)]);
        var work = candidates.Where((_, i) => !done[i]);

        // One sender's messages in the order sent (STOP then START must end opted in); senders in parallel.
        await Parallel.ForEachAsync(work.GroupBy(m => m.Author!.Key), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (person, _) =>
        {
            foreach (var (message, author) in person)
            {
                await HandleOneAsync(sender, message, author!);
                await events.MarkDoneAsync(message.Id!);
            }
        });
    }

    private async Task HandleOneAsync(Sender sender, WebhookMessage message, InboundAuthor author)
    {
        var at = SentAt(message);
        var owners = await OwnersAsync(sender, author);
        if (message.Type == "system")
        {
            await systemMessages.HandleAsync(sender, message, owners, at);
            return;
        }
        await RecordInboundAsync(sender, author, owners, at);
        if (AcknowledgementTaps.AnnouncementOf(message) is { } announcementId)
        {
            await taps.RecordAsync(announcementId, message, owners); // a tap is answered by nothing, not by the help text
            return;
        }

        if (TextOf(message) is not { } text) return; // images, reactions, …: nothing to answer
        var command = Parse(text);
        if (author.WaId is null && owners.Count == 0 && command.Item1 != Command.Join)
        {
            // A BSUID nobody has: no "not registered" answer to accounts we cannot tell apart from strangers.
            if (unknownUserIds.ShouldReport(author.UserId!)) LogUnknownUserId(sender.Id);
            return;
        }
        var phone = PhoneOf(author);
        var reply = command switch
        {
            (Command.Join, var code) => await JoinAsync(sender, author, message.Id!, code!, at),
            (Command.Stop, _) => await SetStatusAsync(owners, EmployeeStatus.OptedOut, StoppedText, phone, message.Id!, at),
            (Command.Start, _) => await SetStatusAsync(owners, EmployeeStatus.Active, StartedText, phone, message.Id!, at),
            _ => owners.Count == 0 ? await NotRegisteredAsync(phone, message.Id!) : HelpText,
        };
        if (reply is not null) await outbox.EnqueueAsync(message.Id!, sender.Id, author.ReplyTo, reply);
    }

    /// <summary>The employees of this sender's employers the author is: by WhatsApp id or number, else by BSUID.</summary>
    private async Task<List<(string EmployerId, Employee Employee)>> OwnersAsync(Sender sender, InboundAuthor author)
    {
        if (author.WaId is { } waId)
        {
            var owners = (await employees.FindByWhatsAppIdAsync(waId, PhoneOf(author))).Where(o => senders.IsOn(o.EmployerId, sender)).ToList();
            // A number and a BSUID together teach the BSUID (and the username) of those employees.
            if (author.UserId is { } learned)
                foreach (var (employerId, employee) in owners) await userIds.LearnAsync(employerId, employee.EmployeeId, sender.Portfolio, learned, author.Username);
            return owners;
        }
        var found = (await userIds.FindAsync(sender.Portfolio, author.UserId!)).Where(o => senders.IsOn(o.EmployerId, sender)).ToList();
        var read = await Task.WhenAll(found.Select(o => employees.GetAsync(o.EmployerId, o.EmployeeId)));
        var byUserId = found.Zip(read).Where(p => p.Second is not null).Select(p => (p.First.EmployerId, p.Second!)).ToList();
        if (author.Username is { } username)
            foreach (var (employerId, employee) in byUserId.Where(o => o.Item2.Username != username))
                await userIds.LearnAsync(employerId, employee.EmployeeId, sender.Portfolio, author.UserId!, username);
        return byUserId;
    }

    /// <summary>The number as the employer API normalised it (the employee index holds those); the BSUID when WhatsApp withheld it.</summary>
    private static string PhoneOf(InboundAuthor author) =>
        author.WaId is null ? author.UserId! : PhoneNormalizer.TryNormalize(author.ReplyTo, out var e164, out _) ? e164 : author.ReplyTo;

    /// <summary>
    /// When the employee wrote, in WhatsApp's whole seconds and never later than now: a clock ahead must not stretch the
    /// window, and a STOP and a START compare by the same measure whichever host works each off.
    /// </summary>
    private DateTimeOffset SentAt(WebhookMessage message)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return DateTimeOffset.FromUnixTimeSeconds(long.TryParse(message.Timestamp, out var seconds) && seconds > 0 ? Math.Min(seconds, now) : now);
    }

    /// <summary>Opens the employees' 24-hour window with this number and keeps the WhatsApp id the message came from.</summary>
    private async Task RecordInboundAsync(Sender sender, InboundAuthor author, IEnumerable<(string EmployerId, Employee Employee)> owners, DateTimeOffset at)
    {
        foreach (var (employerId, employee) in owners)
        {
            await employees.RecordInboundAsync(employerId, employee.EmployeeId, sender.Id, at);
            if (author.WaId is { } waId && employee.WaId != waId) await employees.SetWaIdAsync(employerId, employee.EmployeeId, employee.Phone, waId);
        }
    }

    private async Task<string?> JoinAsync(Sender sender, InboundAuthor author, string messageId, string code, DateTimeOffset at)
    {
        var phone = PhoneOf(author);
        var failures = RedisKeys.JoinFailures(phone);
        if ((long?)await db.StringGetAsync(failures) >= MaxJoinFailuresPerHour) return null;

        // Consumed on behalf of this message: processing it again finds the same owner, not a used code.
        var owner = await joinCodes.ConsumeAsync(code, messageId);
        // A code only works on its employer's own number. Without a number, it links the account's BSUID instead.
        var result = owner is var (employerId, employeeId) && senders.IsOn(employerId, sender)
            ? author.WaId is null
                ? await userIds.LearnAsync(employerId, employeeId, sender.Portfolio, author.UserId!, author.Username) ? RelinkResult.Linked : RelinkResult.NotFound
                : await employees.RelinkPhoneAsync(employerId, employeeId, phone)
            : RelinkResult.NotFound;
        switch (result)
        {
            case RelinkResult.Linked or RelinkResult.Unchanged:
                var (joinedEmployer, joinedEmployee) = owner!.Value;
                if (await employees.GetAsync(joinedEmployer, joinedEmployee) is { } joined)
                    await RecordInboundAsync(sender, author, [(joinedEmployer, joined)], at);
                if (author.WaId is not null && author.UserId is { } userId)
                    await userIds.LearnAsync(joinedEmployer, joinedEmployee, sender.Portfolio, userId, author.Username);
                LogJoined(joinedEmployer, joinedEmployee, PhoneMask.Mask(phone));
                return JoinedText;
            case RelinkResult.PhoneConflict:
                return PhoneTakenText;
            default:
                if (await db.StringIncrementAsync(failures) == 1) await db.KeyExpireAsync(failures, TimeSpan.FromHours(1));
                return BadCodeText;
        }
    }

    private async Task<string?> SetStatusAsync(
        IReadOnlyList<(string EmployerId, Employee Employee)> owners, string status, string reply, string phone, string messageId, DateTimeOffset at)
    {
        if (owners.Count == 0) return await NotRegisteredAsync(phone, messageId);
        // WhatsApp's time of the message decides between a STOP and a START worked off by different hosts.
        foreach (var (employerId, employee) in owners) await employees.SetStatusAsync(employerId, employee.EmployeeId, status, at);
        return reply;
    }

    /// <summary>
    /// Once per number per interval, so a stranger cannot make the bot send message after message. The mark names the
    /// message it answered, so processing that same message again still answers it.
    /// </summary>
    private async Task<string?> NotRegisteredAsync(string phone, string messageId)
    {
        var key = RedisKeys.NotRegisteredReplied(phone);
        return await db.StringSetAsync(key, messageId, NotRegisteredReplyInterval, When.NotExists) || await db.StringGetAsync(key) == messageId
            ? NotRegisteredText
            : null;
    }

    private enum Command { Help, Join, Stop, Start }

    private static (Command, string?) Parse(string text)
    {
        var words = text.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return words switch
        {
            [var w] when w.Equals("STOP", StringComparison.OrdinalIgnoreCase) => (Command.Stop, null),
            [var w] when w.Equals("START", StringComparison.OrdinalIgnoreCase) => (Command.Start, null),
            [var w, var code] when w.Equals("JOIN", StringComparison.OrdinalIgnoreCase) => (Command.Join, code),
            _ => (Command.Help, null),
        };
    }

    /// <summary>The text a message carries: typed text, or the payload/title of a tapped button or list row.</summary>
    private static string? TextOf(WebhookMessage message)
    {
        var text = message.Type switch
        {
            "text" => message.Text?.Body,
            "button" => FirstCommand(message.Button?.Payload, message.Button?.Text),
            "interactive" => FirstCommand(message.Interactive?.ButtonReply?.Id, message.Interactive?.ButtonReply?.Title,
                message.Interactive?.ListReply?.Id, message.Interactive?.ListReply?.Title),
            _ => null,
        };
        // A 4,096-character WhatsApp message is no command; do not split megabytes of hostile text.
        return text is { Length: > 200 } ? "" : text;
    }

    /// <summary>A button's payload is ours and its title is what the user saw: whichever is a command wins.</summary>
    private static string? FirstCommand(params string?[] values) =>
        values.FirstOrDefault(v => v is not null && Parse(v).Item1 != Command.Help) ?? values.FirstOrDefault(v => v is not null);

    private readonly HourlyReport unknownUserIds = new(time);

    [LoggerMessage(LogLevel.Information, "A message to sender {SenderId} from a WhatsApp user id no employee has (number withheld): ignored; logged once an hour per user id")]
    private partial void LogUnknownUserId(string senderId);

    [LoggerMessage(LogLevel.Information, "Employee {EmployerId}/{EmployeeId} linked to {Phone} by a join code")]
    private partial void LogJoined(string employerId, string employeeId, string phone);
}
