using System.ComponentModel.DataAnnotations;

namespace Bot.WhatsAppClient;

/// <summary>Settings for the WhatsApp Cloud API, bound from the <c>WhatsApp</c> configuration section.</summary>
public sealed class WhatsAppOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "WhatsApp";

    /// <summary>Graph API base address, e.g. <c>https://graph.facebook.com</c>.</summary>
    [Required(ErrorMessage = "WhatsApp:BaseUrl is required."), Url(ErrorMessage = "WhatsApp:BaseUrl must be an absolute http(s) URL.")]
    public string BaseUrl { get; set; } = "https://graph.facebook.com";

    /// <summary>Graph API version path segment, e.g. <c>v23.0</c>.</summary>
    [Required(ErrorMessage = "WhatsApp:ApiVersion is required."), RegularExpression(@"^v\d+\.\d+$", ErrorMessage = "WhatsApp:ApiVersion looks like v23.0.")]
    public string ApiVersion { get; set; } = "v23.0";

    /// <summary>
    /// The phone number id of the sender <c>default</c> (employers without <c>Employers:&lt;id&gt;:Sender</c>); required
    /// unless every employer names a sender under <c>Senders</c>. Checked by <see cref="SenderDirectory"/>.
    /// </summary>
    public string PhoneNumberId { get; set; } = "";

    /// <summary>Access token of the sender <c>default</c>, sent as a bearer token. Secret: never logged.</summary>
    public string AccessToken { get; set; } = "";

    /// <summary>The WhatsApp Business Account of the sender <c>default</c>: its template catalog is synced and checked when set.</summary>
    public string? WabaId { get; set; }

    /// <summary>App secret keying the webhook signature (used by the webhook host, not validated here).</summary>
    public string AppSecret { get; set; } = "";

    /// <summary>Token expected in webhook verification requests (used by the webhook host, not validated here).</summary>
    public string VerifyToken { get; set; } = "";

    /// <summary>
    /// How long after an employee's last message to a number free-form messages may go from it (WhatsApp's
    /// customer-service window is 24 hours; shorter only for tests and demos).
    /// </summary>
    public TimeSpan CustomerServiceWindow { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Send throughput allowed for the sender <c>default</c> (Meta's default is 80/s, up to 1000/s).</summary>
    [Range(1, 1000, ErrorMessage = "WhatsApp:MessagesPerSecond is between 1 and 1000.")]
    public int MessagesPerSecond { get; set; } = 80;

    /// <summary>HTTP timeout for one send request.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "WhatsApp:Timeout is between 00:00:01 and 00:05:00.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
