using System.Net;
using Microsoft.Extensions.Options;

namespace Bot.WhatsAppClient;

/// <summary>
/// <c>WhatsApp:Timeout</c> counted from when the request has been written, not from when it was started. A process frozen
/// (SIGSTOP, a long GC pause, a frozen VM) between a delivery's claim and the write of its request wakes up with the
/// request still unsent: counted from the start, the timer that ran while it was frozen would cancel the request at once,
/// and a message that never left would be recorded <c>unknown</c>. Counted from the write, it goes out. Connecting has
/// its own limit (<see cref="SocketsHttpHandler.ConnectTimeout"/>): a connection never made means nothing left.
/// </summary>
internal sealed class AnswerTimeoutHandler(IOptionsMonitor<WhatsAppOptions> options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var timeout = options.CurrentValue.Timeout;
        // The hot send passes no token of its own: a plain source is then enough, without a registration on the caller's.
        using var answer = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
            : new CancellationTokenSource();
        if (request.Content is { } content)
        {
            // Before the write, only a belt against a request that never gets written (a body that never finishes).
            answer.CancelAfter(timeout * BeforeTheWrite);
            var timed = content as TimedContent ?? (TimedContent)(request.Content = new ThenTime(content));
            timed.StartsOnWrite(answer, timeout);
        }
        else answer.CancelAfter(timeout);
        try
        {
            var response = await base.SendAsync(request, answer.Token);
            // The answer's body is part of the answer: read under the same timer, so a body that stalls after its
            // headers ends like a missing answer rather than holding the send forever.
            await response.Content.LoadIntoBufferAsync(answer.Token);
            return response;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"WhatsApp did not answer within {timeout} of the request.", ex);
        }
    }

    /// <summary>How many <c>WhatsApp:Timeout</c>s a request may take to be written.</summary>
    internal const int BeforeTheWrite = 30;

    /// <summary>A request body that starts the answer's timer once it has been written.</summary>
    internal abstract class TimedContent : HttpContent
    {
        private CancellationTokenSource? answer;
        private TimeSpan timeout;

        public void StartsOnWrite(CancellationTokenSource answer, TimeSpan timeout) => (this.answer, this.timeout) = (answer, timeout);

        protected abstract Task WriteAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken);

        protected sealed override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected sealed override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await WriteAsync(stream, context, cancellationToken);
            answer?.CancelAfter(timeout);
        }
    }

    /// <summary>
    /// The bytes of a send's body, timed without a wrapper (<see cref="WhatsAppSender"/>'s bodies): no second content
    /// and headers per send, as <see cref="ThenTime"/> needs for any other body.
    /// </summary>
    internal sealed class TimedBody(byte[] bytes) : TimedContent
    {
        protected override Task WriteAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            stream.WriteAsync(bytes, cancellationToken).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    /// <summary>Any other request body (Refit's), as it was, timed.</summary>
    private sealed class ThenTime : TimedContent
    {
        private readonly HttpContent inner;

        public ThenTime(HttpContent inner)
        {
            this.inner = inner;
            // As they are: the content type shared, the rest unparsed (a send's body has only its Content-Type).
            foreach (var (name, values) in inner.Headers.NonValidated)
            {
                if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) Headers.ContentType = inner.Headers.ContentType;
                else if (values.Count == 1) Headers.TryAddWithoutValidation(name, values.ToString());
                else Headers.TryAddWithoutValidation(name, values);
            }
        }

        protected override Task WriteAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            inner.CopyToAsync(stream, context, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = inner.Headers.ContentLength ?? -1;
            return length >= 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
