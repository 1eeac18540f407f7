using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Bot.WhatsAppClient;

/// <summary>A WhatsApp business number that messages go out from.</summary>
/// <param name="Id">The sender's name in configuration (<c>Senders:&lt;id&gt;</c>; <c>default</c> for <c>WhatsApp:*</c>).</param>
/// <param name="PhoneNumberId">The number's id in the Cloud API.</param>
/// <param name="MessagesPerSecond">Cap for all traffic from the number, across every process.</param>
/// <param name="Portfolio">The business portfolio whose messaging limit the number shares.</param>
/// <param name="WabaId">The WhatsApp Business Account whose template catalog the number sends from; null: no catalog is kept.</param>
public sealed record Sender(string Id, string PhoneNumberId, int MessagesPerSecond, string Portfolio, string? WabaId = null)
{
    /// <summary>The sender defined by <c>WhatsApp:PhoneNumberId</c> and <c>WhatsApp:AccessToken</c>, used by employers that name none.</summary>
    public const string Default = "default";
}

/// <summary>A business portfolio: its numbers share one messaging limit.</summary>
/// <param name="Id">The portfolio id.</param>
/// <param name="MessagingLimit">Unique recipients of business-initiated messages per <paramref name="Window"/>; 0 = unlimited.</param>
/// <param name="Window">The moving window the limit counts over (WhatsApp's is 24 hours).</param>
public sealed record Portfolio(string Id, int MessagingLimit, TimeSpan Window)
{
    /// <summary>Whether business-initiated messages are capped at all.</summary>
    public bool IsLimited => MessagingLimit > 0;
}

/// <summary>An approved template for employees outside the 24-hour window; its one body parameter is the announcement text.</summary>
/// <param name="Name">Template name.</param>
/// <param name="Language">Template language code, e.g. <c>en_US</c>.</param>
public sealed record FallbackTemplate(string Name, string Language);

/// <summary><c>Senders:&lt;id&gt;</c>.</summary>
public sealed class SenderOptions
{
    /// <summary>The number's id in the Cloud API.</summary>
    public string? PhoneNumberId { get; set; }

    /// <summary>Its access token. Secret: never logged.</summary>
    public string? AccessToken { get; set; }

    /// <summary>Cap for all traffic from the number, 1–1000.</summary>
    public int MessagesPerSecond { get; set; } = 80;

    /// <summary>The portfolio the number belongs to; the sender id when unset.</summary>
    public string? Portfolio { get; set; }

    /// <summary>The WhatsApp Business Account of the number: its template catalog is synced and checked when set.</summary>
    public string? WabaId { get; set; }
}

/// <summary><c>Portfolios:&lt;id&gt;</c>.</summary>
public sealed class PortfolioOptions
{
    /// <summary>250, 2000, 10000, 100000, or 0 = unlimited.</summary>
    public int MessagingLimit { get; set; }

    /// <summary>The moving window of the limit (shorter than 24 h only for tests and demos).</summary>
    public TimeSpan MessagingLimitWindow { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>The messaging part of <c>Employers:&lt;id&gt;</c> (API keys are read by the webhook host).</summary>
public sealed class EmployerMessagingOptions
{
    /// <summary>The sender of this employer's announcements and bot replies.</summary>
    public string Sender { get; set; } = WhatsAppClient.Sender.Default;

    /// <summary>Template for employees outside the 24-hour window.</summary>
    public FallbackTemplateOptions? FallbackTemplate { get; set; }

    /// <summary>The employer's language (BCP 47, e.g. <c>de</c>): the template variant for employees without one of their own.</summary>
    public string? Language { get; set; }
}

/// <summary><c>Employers:&lt;id&gt;:FallbackTemplate</c>.</summary>
public sealed class FallbackTemplateOptions
{
    /// <summary>Template name.</summary>
    public string? Name { get; set; }

    /// <summary>Template language code.</summary>
    public string? Language { get; set; }
}

/// <summary>The sections that say who sends for whom, bound from the configuration root.</summary>
public sealed class MessagingOptions
{
    /// <summary><c>Senders</c>.</summary>
    public Dictionary<string, SenderOptions> Senders { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>Portfolios</c>.</summary>
    public Dictionary<string, PortfolioOptions> Portfolios { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>Employers</c>.</summary>
    public Dictionary<string, EmployerMessagingOptions> Employers { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Who sends for whom: the senders (each with its phone number id, token, rate and portfolio), the portfolios' messaging
/// limits, and each employer's sender and fallback template. Built from <see cref="MessagingOptions"/> and
/// <see cref="WhatsAppOptions"/> (which defines the sender <c>default</c>), validated at start-up with the key named, and
/// rebuilt when configuration reloads, so a rotated token is used from the next request on.
/// </summary>
public sealed partial class SenderDirectory
{
    private readonly IOptionsMonitor<MessagingOptions> messaging;
    private readonly IOptionsMonitor<WhatsAppOptions> whatsApp;
    private readonly Lock swap = new();
    private Snapshot configured;
    private volatile Snapshot snapshot;

    /// <summary>Builds the directory; throws <see cref="OptionsValidationException"/> naming the key when configuration is wrong.</summary>
    /// <param name="messaging">The <c>Senders</c>, <c>Portfolios</c> and <c>Employers</c> sections.</param>
    /// <param name="whatsApp">The <c>WhatsApp</c> section (the sender <c>default</c>).</param>
    public SenderDirectory(IOptionsMonitor<MessagingOptions> messaging, IOptionsMonitor<WhatsAppOptions> whatsApp)
    {
        this.messaging = messaging;
        this.whatsApp = whatsApp;
        snapshot = configured = Build(messaging.CurrentValue, whatsApp.CurrentValue);
        messaging.OnChange(_ => Reload());
        whatsApp.OnChange(_ => Reload());
    }

    /// <summary>Every sender: configured, and made through the operator API.</summary>
    public IReadOnlyCollection<Sender> All => snapshot.Senders.Values;

    /// <summary>The sender named <paramref name="senderId"/>; throws for an unknown one (configuration is validated at start-up).</summary>
    /// <param name="senderId">A sender id.</param>
    public Sender Get(string senderId) =>
        snapshot.Senders.GetValueOrDefault(senderId) ?? throw new KeyNotFoundException($"Sender '{senderId}' is not configured.");

    /// <summary>The sender whose number has this Cloud API id (inbound webhooks name it); null for a number not configured here.</summary>
    /// <param name="phoneNumberId">The <c>metadata.phone_number_id</c> of a webhook.</param>
    public Sender? FindByPhoneNumberId(string? phoneNumberId) =>
        phoneNumberId is null ? null : snapshot.ByPhoneNumberId.GetValueOrDefault(phoneNumberId);

    /// <summary>The sender of an employer's announcements and replies (<c>default</c> unless configured).</summary>
    /// <param name="employerId">The employer.</param>
    public Sender ForEmployer(string employerId) =>
        Get(snapshot.Employers.GetValueOrDefault(employerId)?.Sender ?? Sender.Default);

    /// <summary>
    /// The sender an announcement goes out from: its employer's, as <see cref="ForEmployer(string)"/>; for an employer this
    /// process does not know (made through the operator API a moment ago, its change not read here yet), the sender the
    /// announcement was created under, which the host that created it knew — never the default number by mistake.
    /// </summary>
    /// <param name="employerId">The announcement's employer.</param>
    /// <param name="createdUnder">The sender the announcement was queued under; null for none recorded.</param>
    public Sender ForEmployer(string employerId, string? createdUnder) =>
        !snapshot.Employers.ContainsKey(employerId) && createdUnder is not null && snapshot.Senders.TryGetValue(createdUnder, out var sender)
            ? sender
            : ForEmployer(employerId);

    /// <summary>Whether the employer's announcements and replies go out from <paramref name="sender"/>.</summary>
    /// <param name="employerId">The employer.</param>
    /// <param name="sender">The sender.</param>
    public bool IsOn(string employerId, Sender sender) => ForEmployer(employerId).Id == sender.Id;

    /// <summary>The employer's template for employees outside the 24-hour window, if it has one.</summary>
    /// <param name="employerId">The employer.</param>
    public FallbackTemplate? FallbackTemplateOf(string employerId) =>
        snapshot.Employers.GetValueOrDefault(employerId)?.FallbackTemplate is { Name: { } name, Language: { } language }
            ? new FallbackTemplate(name, language)
            : null;

    /// <summary>The employer's language (<c>Employers:&lt;id&gt;:Language</c>), if configured.</summary>
    /// <param name="employerId">The employer.</param>
    public string? LanguageOf(string employerId) => snapshot.Employers.GetValueOrDefault(employerId)?.Language is { Length: > 0 } language ? language : null;

    /// <summary>The portfolio a sender belongs to.</summary>
    /// <param name="sender">The sender.</param>
    public Portfolio PortfolioOf(Sender sender) =>
        snapshot.Portfolios.GetValueOrDefault(sender.Portfolio) ?? new Portfolio(sender.Portfolio, 0, TimeSpan.FromDays(1));

    /// <summary>How long free-form messages may go after an employee's last message (<c>WhatsApp:CustomerServiceWindow</c>).</summary>
    public TimeSpan CustomerServiceWindow => whatsApp.CurrentValue.CustomerServiceWindow;

    /// <summary>The current access token of a sender, for the request being sent now.</summary>
    internal string AccessTokenOf(string senderId) => snapshot.Tokens[senderId];

    private void Reload()
    {
        try
        {
            var built = Build(messaging.CurrentValue, whatsApp.CurrentValue);
            lock (swap)
            {
                configured = built;
                snapshot = Merge(built, runtime);
            }
        }
        catch (OptionsValidationException)
        {
            // A half-edited configuration file: keep sending with the last valid one.
        }
    }

    internal sealed record Snapshot(
        Dictionary<string, Sender> Senders,
        Dictionary<string, string> Tokens,
        Dictionary<string, Sender> ByPhoneNumberId,
        Dictionary<string, Portfolio> Portfolios,
        Dictionary<string, EmployerMessagingOptions> Employers);

    private static readonly int[] Tiers = [0, 250, 2000, 10_000, 100_000];

    private static Snapshot Build(MessagingOptions options, WhatsAppOptions whatsApp)
    {
        var errors = Check(options, whatsApp, out var snapshot);
        return errors.Count == 0 ? snapshot : throw new OptionsValidationException("Senders", typeof(SenderDirectory), errors);
    }

    /// <summary>What is wrong with the sender settings, each naming its key; empty when they are right.</summary>
    internal static List<string> Check(MessagingOptions options, WhatsAppOptions whatsApp, out Snapshot snapshot)
    {
        var errors = new List<string>();
        var senders = new Dictionary<string, Sender>(StringComparer.Ordinal);
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        var byNumber = new Dictionary<string, Sender>(StringComparer.Ordinal);

        void Add(string id, string? phoneNumberId, string? token, int rate, string? portfolio, string prefix, string rateKey, string? wabaId)
        {
            if (!SenderId().IsMatch(id)) errors.Add($"{prefix}: a sender id is 1-64 letters, digits, '.', '_' or '-'.");
            if (string.IsNullOrWhiteSpace(phoneNumberId)) errors.Add($"{prefix}PhoneNumberId is required: the id of the WhatsApp business number that sends.");
            if (string.IsNullOrWhiteSpace(token)) errors.Add($"{prefix}AccessToken is required: the Cloud API access token.");
            if (rate is < 1 or > 1000) errors.Add($"{rateKey} is between 1 and 1000.");
            if (string.IsNullOrWhiteSpace(phoneNumberId) || string.IsNullOrWhiteSpace(token)) return;
            if (wabaId is not null && !wabaId.All(char.IsAsciiDigit)) errors.Add($"{prefix}WabaId is the WhatsApp Business Account id: digits.");
            var sender = new Sender(id, phoneNumberId, rate, string.IsNullOrWhiteSpace(portfolio) ? id : portfolio, string.IsNullOrWhiteSpace(wabaId) ? null : wabaId);
            if (!byNumber.TryAdd(phoneNumberId, sender))
                errors.Add($"{prefix}PhoneNumberId is the same number as sender '{byNumber[phoneNumberId].Id}': inbound messages could not tell them apart.");
            senders[id] = sender;
            tokens[id] = token;
        }

        foreach (var (id, s) in options.Senders)
            Add(id, s.PhoneNumberId, s.AccessToken, s.MessagesPerSecond, s.Portfolio, $"Senders:{id}:", $"Senders:{id}:MessagesPerSecond", s.WabaId);

        var usesDefault = options.Employers.Count == 0 || options.Employers.Values.Any(e => e.Sender == Sender.Default);
        if (!options.Senders.ContainsKey(Sender.Default) && (usesDefault || !string.IsNullOrWhiteSpace(whatsApp.PhoneNumberId)))
            Add(Sender.Default, whatsApp.PhoneNumberId, whatsApp.AccessToken, whatsApp.MessagesPerSecond, null, "WhatsApp:", "WhatsApp:MessagesPerSecond", whatsApp.WabaId);

        var portfolios = new Dictionary<string, Portfolio>(StringComparer.Ordinal);
        foreach (var (id, p) in options.Portfolios)
        {
            if (!Tiers.Contains(p.MessagingLimit))
                errors.Add($"Portfolios:{id}:MessagingLimit is one of WhatsApp's tiers: {string.Join(", ", Tiers[1..])}, or 0 for unlimited.");
            if (p.MessagingLimitWindow <= TimeSpan.Zero)
                errors.Add($"Portfolios:{id}:MessagingLimitWindow must be positive.");
            portfolios[id] = new Portfolio(id, p.MessagingLimit, p.MessagingLimitWindow);
        }

        foreach (var (id, e) in options.Employers)
        {
            if (!options.Senders.ContainsKey(e.Sender) && e.Sender != Sender.Default)
                errors.Add($"Employers:{id}:Sender names '{e.Sender}', which is not configured under Senders.");
            if (e.FallbackTemplate is { } t && (string.IsNullOrWhiteSpace(t.Name) != string.IsNullOrWhiteSpace(t.Language)))
                errors.Add($"Employers:{id}:FallbackTemplate needs both Name and Language.");
        }

        if (whatsApp.CustomerServiceWindow <= TimeSpan.Zero)
            errors.Add("WhatsApp:CustomerServiceWindow must be positive.");
        snapshot = new Snapshot(senders, tokens, byNumber, portfolios, new Dictionary<string, EmployerMessagingOptions>(options.Employers, StringComparer.Ordinal));
        return errors;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex SenderId();
}

/// <summary>Fails start-up (<c>ValidateOnStart</c>) with every wrong sender setting named.</summary>
internal sealed class MessagingOptionsValidation(IOptionsMonitor<WhatsAppOptions> whatsApp) : IValidateOptions<MessagingOptions>
{
    public ValidateOptionsResult Validate(string? name, MessagingOptions options)
    {
        var errors = SenderDirectory.Check(options, whatsApp.CurrentValue, out _);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
