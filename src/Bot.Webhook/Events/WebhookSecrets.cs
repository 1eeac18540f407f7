using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Bot.Webhook.Events;

/// <summary>
/// Endpoint secrets: made here, shown to the employer once, and kept in Redis only encrypted with Data Protection (the
/// key ring every host shares, as for sender tokens), so a Redis dump does not let anyone forge events.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    public const string Prefix = "whsec_";

    // Its own purpose: a protected sender token can never be unprotected as a webhook secret, nor the reverse.
    private readonly IDataProtector protector = provider.CreateProtector("Events.WebhookSecret.v1");

    /// <summary>A new secret, <c>whsec_</c> and 32 random bytes in base64 (the Standard Webhooks form).</summary>
    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public string Protect(string secret) => protector.Protect(secret);

    public string Unprotect(string stored) => protector.Unprotect(stored);
}
