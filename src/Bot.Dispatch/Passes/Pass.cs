using System.Collections.Concurrent;
using Bot.Core.Announcements;
using Bot.WhatsAppClient;

namespace Bot.Dispatch;

/// <summary>What every send of one pass (announcement, reminder or template re-send) needs to know, and how far the pass got.</summary>
public sealed class Pass(
    AnnouncementQueue queue, Announcement announcement, Sender sender, Portfolio portfolio, FallbackTemplate? fallback, string owner,
    Func<bool> mayGoOn, CancellationTokenSource lineStopped, int maxConcurrentSends)
{
    private readonly Lock gate = new();

    public AnnouncementQueue Queue => queue;
    public Announcement Announcement => announcement;
    public Sender Sender => sender;
    public Portfolio Portfolio => portfolio;
    public FallbackTemplate? Fallback => fallback;

    /// <summary>Whose claims this pass makes; a claim of an earlier pass is never mistaken for one of this pass.</summary>
    public string Owner => owner;

    /// <summary>The lock and the lease are still held.</summary>
    public bool MayGoOn() => mayGoOn();

    /// <summary>Cancelled to stop the pass: a stop-the-line error, a lost lease, shutdown.</summary>
    public CancellationTokenSource LineStopped => lineStopped;

    /// <summary>The pass's sends whose outcome is not yet written (drained before the pass ends).</summary>
    public UnrecordedSends Unrecorded { get; } = new(maxConcurrentSends, lineStopped);

    /// <summary>The template variant per employee and the file the pass sends (<see cref="PassContentReader"/>).</summary>
    public PassContent Content { get; init; } = PassContent.None;

    /// <summary>
    /// The body of one kind of the pass's message (its text, a template variant by language), serialized on its first
    /// send from <paramref name="shape"/> and shared by every employee after.
    /// </summary>
    public MessageBody Body(string kind, string? language, Func<Pass, string?, OutgoingMessage> shape) =>
        bodies.GetOrAdd((kind, language), static (key, state) => MessageBody.Of(state.shape(state.pass, key.Language)), (pass: this, shape));

    private readonly ConcurrentDictionary<(string Kind, string? Language), MessageBody> bodies = new();

    /// <summary>Its share of the sender's capacity: the employer's, and within it the announcement's.</summary>
    public SendLane Lane { get; } = new(announcement.EmployerId, announcement.Id, announcement.Urgent);

    /// <summary>The first target of the batch the pass is on, or the total once every batch was read.</summary>
    public long Offset { get; set; }

    /// <summary>When the messaging limit frees a place, once a business-initiated send of this pass found it full.</summary>
    public DateTimeOffset? DeferredUntil { get; private set; }

    public void Defer(DateTimeOffset until)
    {
        lock (gate) DeferredUntil = DeferredUntil is { } earlier && earlier < until ? earlier : until;
    }

    /// <summary>The earliest time an employee held by <see cref="SendTiming"/> (local time, quiet hours) may get it.</summary>
    public DateTimeOffset? HeldUntil { get; private set; }

    public void Hold(DateTimeOffset until)
    {
        lock (gate) HeldUntil = HeldUntil is { } earlier && earlier < until ? earlier : until;
    }

    /// <summary>Why the announcement itself pauses (WhatsApp refused its template for everyone), and until when.</summary>
    public (string Reason, DateTimeOffset Until)? Stopped { get; private set; }

    /// <summary>Pauses the announcement after this pass; true for the first call.</summary>
    public bool Stop(string reason, DateTimeOffset until)
    {
        lock (gate)
        {
            if (Stopped is not null) return false;
            Stopped = (reason, until);
            return true;
        }
    }
}
