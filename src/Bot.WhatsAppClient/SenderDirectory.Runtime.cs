namespace Bot.WhatsAppClient;

/// <summary>A WhatsApp number made through the operator API, its token decrypted.</summary>
/// <param name="Id">The sender id.</param>
/// <param name="PhoneNumberId">The number's id in the Cloud API.</param>
/// <param name="AccessToken">Its access token. Secret: never logged.</param>
/// <param name="MessagesPerSecond">Cap for all traffic from the number.</param>
/// <param name="Portfolio">The portfolio whose messaging limit it shares.</param>
public sealed record RuntimeSender(string Id, string PhoneNumberId, string AccessToken, int MessagesPerSecond, string Portfolio)
{
    /// <inheritdoc/>
    /// <remarks>Without the token: a record's generated text would print it into any log line it reaches.</remarks>
    public override string ToString() => $"RuntimeSender {{ Id = {Id}, PhoneNumberId = {PhoneNumberId} }}";
}

/// <summary>An employer made through the operator API: who sends for it and its fallback template.</summary>
/// <param name="Id">The employer id.</param>
/// <param name="Sender">The sender of its announcements and replies.</param>
/// <param name="FallbackTemplate">Its template for employees outside the 24-hour window.</param>
public sealed record RuntimeEmployer(string Id, string Sender, FallbackTemplate? FallbackTemplate);

/// <summary>Everything the operator API made that the directory serves, as last loaded from Redis.</summary>
/// <param name="Senders">The senders.</param>
/// <param name="Portfolios">The portfolios' limits.</param>
/// <param name="Employers">The employers.</param>
public sealed record RuntimeTenants(IReadOnlyList<RuntimeSender> Senders, IReadOnlyList<Portfolio> Portfolios, IReadOnlyList<RuntimeEmployer> Employers)
{
    /// <summary>Nothing made at runtime.</summary>
    public static readonly RuntimeTenants None = new([], [], []);
}

public sealed partial class SenderDirectory
{
    private RuntimeTenants runtime = RuntimeTenants.None;

    /// <summary>
    /// Serves <paramref name="tenants"/> next to the configured ones from now on: a new sender is in <see cref="All"/>, a
    /// changed token goes with the next request. Configuration wins over a runtime entry with the same id or number.
    /// </summary>
    /// <param name="tenants">The runtime tenants, replacing the previous ones.</param>
    public void Apply(RuntimeTenants tenants)
    {
        lock (swap)
        {
            runtime = tenants;
            snapshot = Merge(configured, tenants);
        }
    }

    /// <summary>Whether the sender is defined in configuration (read-only for the operator API).</summary>
    /// <param name="senderId">A sender id.</param>
    public bool IsConfiguredSender(string senderId) => configured.Senders.ContainsKey(senderId);

    /// <summary>Whether the employer is defined in configuration (read-only for the operator API).</summary>
    /// <param name="employerId">An employer id.</param>
    public bool IsConfiguredEmployer(string employerId) => configured.Employers.ContainsKey(employerId);

    /// <summary>Whether the portfolio is defined in configuration (read-only for the operator API).</summary>
    /// <param name="portfolioId">A portfolio id.</param>
    public bool IsConfiguredPortfolio(string portfolioId) => configured.Portfolios.ContainsKey(portfolioId);

    /// <summary>WhatsApp's messaging limit tiers, 0 first (unlimited).</summary>
    public static IReadOnlyList<int> MessagingLimitTiers => Tiers;

    /// <summary>Whether a sender of this id exists, configured or made at runtime.</summary>
    /// <param name="senderId">A sender id.</param>
    public bool Contains(string senderId) => snapshot.Senders.ContainsKey(senderId);

    private static Snapshot Merge(Snapshot configured, RuntimeTenants runtime)
    {
        if (ReferenceEquals(runtime, RuntimeTenants.None)) return configured;
        var senders = new Dictionary<string, Sender>(configured.Senders, StringComparer.Ordinal);
        var tokens = new Dictionary<string, string>(configured.Tokens, StringComparer.Ordinal);
        var byNumber = new Dictionary<string, Sender>(configured.ByPhoneNumberId, StringComparer.Ordinal);
        foreach (var s in runtime.Senders)
        {
            if (senders.ContainsKey(s.Id) || byNumber.ContainsKey(s.PhoneNumberId)) continue;
            var sender = new Sender(s.Id, s.PhoneNumberId, s.MessagesPerSecond, s.Portfolio);
            senders[s.Id] = byNumber[s.PhoneNumberId] = sender;
            tokens[s.Id] = s.AccessToken;
        }
        var portfolios = new Dictionary<string, Portfolio>(configured.Portfolios, StringComparer.Ordinal);
        foreach (var p in runtime.Portfolios) portfolios.TryAdd(p.Id, p);
        var employers = new Dictionary<string, EmployerMessagingOptions>(configured.Employers, StringComparer.Ordinal);
        foreach (var e in runtime.Employers.Where(e => senders.ContainsKey(e.Sender)))
        {
            employers.TryAdd(e.Id, new EmployerMessagingOptions
            {
                Sender = e.Sender,
                FallbackTemplate = e.FallbackTemplate is { } t ? new FallbackTemplateOptions { Name = t.Name, Language = t.Language } : null,
            });
        }
        return new Snapshot(senders, tokens, byNumber, portfolios, employers);
    }
}
