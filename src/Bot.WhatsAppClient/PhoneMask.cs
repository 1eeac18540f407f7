namespace Bot.WhatsAppClient;

/// <summary>Masks phone numbers for logs.</summary>
public static class PhoneMask
{
    private const int KeepStart = 5;
    private const int KeepEnd = 3;

    /// <summary>Keeps the first five and last three characters, e.g. <c>+16505551234</c> becomes <c>+1650****234</c>; short or empty input becomes <c>***</c>.</summary>
    /// <param name="phone">The phone number to mask.</param>
    public static string Mask(string? phone)
    {
        if (phone is null || phone.Length <= KeepStart + KeepEnd)
            return "***";

        return string.Concat(phone.AsSpan(0, KeepStart), new string('*', phone.Length - KeepStart - KeepEnd), phone.AsSpan(phone.Length - KeepEnd));
    }
}
