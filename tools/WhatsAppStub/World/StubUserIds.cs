using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Bot.Tools.WhatsAppStub.World;

/// <summary>
/// The business-scoped user ids (BSUIDs) of the stub's one portfolio: one per number, derived from it so every run
/// gives a person the same BSUID and a new number a new one, as WhatsApp does. A send may name the BSUID instead of the
/// number (<c>recipient</c>); it reaches the number the BSUID was given out for.
/// </summary>
internal sealed class StubUserIds(IReadOnlySet<string> withheld)
{
    private readonly ConcurrentDictionary<string, string> numberOf = new(StringComparer.Ordinal);

    /// <summary>Whether webhooks about this number leave it out (a user with a username): only the BSUID is posted.</summary>
    public bool IsWithheld(string waId) => withheld.Contains(waId);

    /// <summary><c>US.</c> and 20 digits from a hash of the number.</summary>
    public string Of(string waId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("stub-bsuid:" + waId));
        var userId = "US." + BitConverter.ToUInt64(hash, 0).ToString("D20", CultureInfo.InvariantCulture);
        numberOf[userId] = waId;
        return userId;
    }

    /// <summary>The number behind <paramref name="recipient"/> when it is a BSUID given out before; else the recipient as it is.</summary>
    public string NumberOf(string recipient) => numberOf.GetValueOrDefault(recipient, recipient);
}
