using PhoneNumbers;

namespace Bot.Core.Employees;

/// <summary>Phone numbers as WhatsApp wants them: E.164 with a leading '+'.</summary>
public static class PhoneNormalizer
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    /// <summary>Normalises an international number ("+1 (650) 555-1234" → "+16505551234").</summary>
    public static bool TryNormalize(string? input, out string e164, out string error)
    {
        e164 = "";
        if (string.IsNullOrWhiteSpace(input) || input.Length > 32)
        {
            error = "A phone number is required, in international format such as +16505551234.";
            return false;
        }
        try
        {
            // No default region: a number without its country code is ambiguous, and guessing would
            // send an announcement to a stranger.
            var number = Util.Parse(input.Trim(), null);
            if (!Util.IsValidNumber(number))
            {
                error = $"'{input}' is not a valid phone number.";
                return false;
            }
            e164 = Util.Format(number, PhoneNumberFormat.E164);
            error = "";
            return true;
        }
        catch (NumberParseException)
        {
            error = $"'{input}' is not a phone number in international format (such as +16505551234).";
            return false;
        }
    }
}
