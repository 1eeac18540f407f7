using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Bot.Tools.WhatsAppStub;

/// <summary>Counts of send requests, kept as they arrive, so <c>GET /stub/received</c> never walks a request log.</summary>
public sealed class ReceivedCounts
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> accepted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> acceptedBySender = new(StringComparer.Ordinal);
    private int requests;
    private int rejected;
    private int outsideWindow;
    private int overMessagingLimit;
    private int webhookPosts;
    private int webhookUpdates;
    private int webhookUpdatesDropped;

    public int Requests
    {
        get
        {
            lock (gate) return requests;
        }
    }

    public int Accepted
    {
        get
        {
            lock (gate) return accepted.Values.Sum();
        }
    }

    /// <summary>Accepted sends failed afterwards with 131047 (free-form outside the customer-service window).</summary>
    public int OutsideWindow => Volatile.Read(ref outsideWindow);

    /// <summary>Accepted templates failed afterwards with 131049 (a new recipient beyond the messaging limit).</summary>
    public int OverMessagingLimit => Volatile.Read(ref overMessagingLimit);

    public int AcceptedFor(string to)
    {
        lock (gate) return accepted.GetValueOrDefault(to);
    }

    public int AcceptedFrom(string phoneNumberId)
    {
        lock (gate) return acceptedBySender.GetValueOrDefault(phoneNumberId);
    }

    internal void Add(string? to, string phoneNumberId, bool wasAccepted)
    {
        lock (gate)
        {
            requests++;
            if (!wasAccepted)
            {
                rejected++;
                return;
            }

            to ??= "(none)";
            accepted[to] = accepted.GetValueOrDefault(to) + 1;
            acceptedBySender[phoneNumberId] = acceptedBySender.GetValueOrDefault(phoneNumberId) + 1;
        }
    }

    internal void AddOutsideWindow() => Interlocked.Increment(ref outsideWindow);

    internal void AddOverMessagingLimit() => Interlocked.Increment(ref overMessagingLimit);

    internal void AddWebhookPost(int updates)
    {
        lock (gate)
        {
            webhookPosts++;
            webhookUpdates += updates;
        }
    }

    internal void AddWebhookDropped(int updates) => Interlocked.Add(ref webhookUpdatesDropped, updates);

    internal void Reset()
    {
        lock (gate)
        {
            accepted.Clear();
            acceptedBySender.Clear();
            requests = 0;
            rejected = 0;
            outsideWindow = 0;
            overMessagingLimit = 0;
            webhookPosts = 0;
            webhookUpdates = 0;
            webhookUpdatesDropped = 0;
        }
    }

    /// <summary>
    /// <c>{requests, accepted, rejected, recipients, maxPerRecipient, outsideWindow, overMessagingLimit, webhooks, bySender,
    /// byRecipient}</c>, keys in ordinal order.
    /// </summary>
    public string ToJson()
    {
        KeyValuePair<string, int>[] counts, bySender;
        int total, failed, posts, updates;
        lock (gate)
        {
            counts = [.. accepted];
            bySender = [.. acceptedBySender];
            total = requests;
            failed = rejected;
            posts = webhookPosts;
            updates = webhookUpdates;
        }

        Array.Sort(counts, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        Array.Sort(bySender, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var buffer = new ArrayBufferWriter<byte>(256 + counts.Length * 24);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = StubJson.Options.Encoder }))
        {
            json.WriteStartObject();
            json.WriteNumber("requests", total);
            json.WriteNumber("accepted", counts.Sum(kv => kv.Value));
            json.WriteNumber("rejected", failed);
            json.WriteNumber("recipients", counts.Length);
            json.WriteNumber("maxPerRecipient", counts.Length == 0 ? 0 : counts.Max(kv => kv.Value));
            json.WriteNumber("outsideWindow", OutsideWindow);
            json.WriteNumber("overMessagingLimit", OverMessagingLimit);
            json.WriteStartObject("webhooks");
            json.WriteNumber("posts", posts);
            json.WriteNumber("updates", updates);
            json.WriteNumber("dropped", Volatile.Read(ref webhookUpdatesDropped));
            json.WriteEndObject();
            json.WriteStartObject("bySender");
            foreach (var (phoneNumberId, count) in bySender) json.WriteNumber(phoneNumberId, count);
            json.WriteEndObject();
            json.WriteStartObject("byRecipient");
            foreach (var (to, count) in counts) json.WriteNumber(to, count);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
