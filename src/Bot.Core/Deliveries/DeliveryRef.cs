using System.Diagnostics.CodeAnalysis;

namespace Bot.Core.Deliveries;

/// <summary>
/// Which delivery a WhatsApp message belongs to, written as <c>"&lt;announcementId&gt;:&lt;employeeId&gt;"</c>: the
/// dispatcher sends it as <c>biz_opaque_callback_data</c>, Meta echoes it in status webhooks, and the wamid index
/// stores it for statuses that come without it. Neither id can contain ':' (<see cref="Ids"/>).
/// </summary>
public readonly record struct DeliveryRef(string AnnouncementId, string EmployeeId)
{
    public string Format() => $"{AnnouncementId}:{EmployeeId}";

    public override string ToString() => Format();

    /// <summary>False for anything that is not two valid ids around one ':' — callback data is the sender's to mangle.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out DeliveryRef reference)
    {
        if (value?.Split(':') is [var announcementId, var employeeId] && Ids.IsValid(announcementId) && Ids.IsValid(employeeId))
        {
            reference = new DeliveryRef(announcementId, employeeId);
            return true;
        }
        reference = default;
        return false;
    }

    /// <summary><see cref="TryParse"/> for code that keeps "not a reference" as null.</summary>
    public static DeliveryRef? ParseOrNull(string? value) => TryParse(value, out var reference) ? reference : null;
}
