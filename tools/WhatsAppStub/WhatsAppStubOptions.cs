using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bot.Tools.WhatsAppStub;

/// <summary>How to start a <see cref="WhatsAppStubServer"/>.</summary>
public sealed record WhatsAppStubOptions
{
    /// <summary>0 picks a free loopback port (tests, bench).</summary>
    public int Port { get; init; }

    public string MappingsFolder { get; init; } = StubSettings.DefaultMappingsFolder;

    /// <summary>Also load <c>mappings/faults/*.json</c>.</summary>
    public bool Faults { get; init; }

    /// <summary>Listen on every interface so other containers can reach it; tests and the bench stay on loopback.</summary>
    public bool BindAllInterfaces { get; init; }

    /// <summary>
    /// Requests kept for <c>GET /__admin/requests</c>; older ones are dropped so a long run cannot grow the stub without
    /// bound. Null keeps every request: tests read the whole log.
    /// </summary>
    public int? MaxRequestLogCount { get; init; } = WhatsAppStubServer.DefaultMaxRequestLogCount;

    /// <summary>
    /// Phone number id → access token. Empty (the default): any token and any phone number id are answered. Otherwise a
    /// send whose bearer token is no sender's answers 401 (Graph 190), and one to a phone number id that is unknown or
    /// not the token's answers 400 (Graph 100, subcode 33), before any mapping is consulted, as Graph checks them first.
    /// </summary>
    public IReadOnlyDictionary<string, string> Senders { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>
    /// E.164 number without '+' → the wa_id WhatsApp knows that person by (Brazil, Mexico, Argentina), given back in the
    /// send answer's <c>contacts[].wa_id</c> and as statuses' <c>recipient_id</c>. Unlisted numbers: the number itself.
    /// </summary>
    public IReadOnlyDictionary<string, string> WaIds { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>
    /// World mode is on when this is set: statuses and inbound messages are POSTed here, signed with
    /// <see cref="AppSecret"/>; free-form messages need an open customer-service window; the messaging limit applies.
    /// </summary>
    public Uri? WebhookUrl { get; init; }

    /// <summary>Numbers (without '+') of people with a username whose number WhatsApp withholds: webhooks about them carry
    /// only their BSUID (<c>user_id</c>, <c>recipient_user_id</c>), no <c>wa_id</c>, <c>from</c> or <c>recipient_id</c>.</summary>
    public IReadOnlySet<string> WithheldNumbers { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Keys the HMAC-SHA256 of <c>X-Hub-Signature-256</c>; required with <see cref="WebhookUrl"/>.</summary>
    public string? AppSecret { get; init; }

    /// <summary>How long after a person's last message to a number free-form messages to them go (WhatsApp: 24 h).</summary>
    public TimeSpan CustomerServiceWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Delays after the 200 before each status is posted; null: that status is never posted. <c>failed</c> comes after <see cref="SentAfter"/>.</summary>
    public TimeSpan? SentAfter { get; init; } = TimeSpan.FromSeconds(0.5);

    public TimeSpan? DeliveredAfter { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan? ReadAfter { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Unique recipients of templates per <see cref="MessagingLimitWindow"/> across all senders (one portfolio); null or 0: unlimited.</summary>
    public int? MessagingLimit { get; init; }

    public TimeSpan MessagingLimitWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The <c>entry[].id</c> (WhatsApp Business Account id) and <c>metadata.display_phone_number</c> of webhook POSTs.</summary>
    public string WabaId { get; init; } = DefaultWabaId;

    /// <summary>The WABA id run.sh, compose and the tests configure.</summary>
    public const string DefaultWabaId = "102290129340398";

    public string DisplayPhoneNumber { get; init; } = "15550783881";

    /// <summary>
    /// A JSON file <c>{"&lt;wabaId&gt;": [templates as Graph lists them]}</c>: the catalog served in pages and checked on
    /// template sends to <see cref="WabaId"/>'s numbers; null: no catalog, every template goes.
    /// </summary>
    public string? TemplatesFile { get; init; }

    /// <summary>Drives the windows, the messaging limit and the status delays.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where world mode logs dropped webhook POSTs; the tool logs to the console.</summary>
    public ILoggerFactory Loggers { get; init; } = NullLoggerFactory.Instance;

    internal void Validate()
    {
        if (WebhookUrl is null) return;
        if (string.IsNullOrEmpty(AppSecret)) throw new ArgumentException("world mode (a webhook URL) needs the app secret that signs its POSTs");
        if (CustomerServiceWindow <= TimeSpan.Zero || MessagingLimitWindow <= TimeSpan.Zero) throw new ArgumentException("windows must be positive");
        if (new[] { SentAfter, DeliveredAfter, ReadAfter }.Any(d => d < TimeSpan.Zero)) throw new ArgumentException("status delays cannot be negative");
    }
}
