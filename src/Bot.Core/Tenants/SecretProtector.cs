using Microsoft.AspNetCore.DataProtection;

namespace Bot.Core.Tenants;

/// <summary>
/// Encrypts sender tokens before they reach Redis, with ASP.NET Core Data Protection. The key ring is in Redis and the
/// application name is fixed, so every webhook host and dispatcher can read what any of them wrote.
/// </summary>
public sealed class SecretProtector(IDataProtectionProvider provider)
{
    public const string ApplicationName = "Announcements";

    // The purpose isolates these payloads: nothing else protected by this application can be unprotected as a token.
    private readonly IDataProtector protector = provider.CreateProtector("Tenants.SenderToken.v1");

    public string Protect(string secret) => protector.Protect(secret);

    public string Unprotect(string protectedSecret) => protector.Unprotect(protectedSecret);
}
