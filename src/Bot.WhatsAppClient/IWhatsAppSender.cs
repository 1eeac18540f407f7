namespace Bot.WhatsAppClient;

/// <summary>Sends one message through the WhatsApp Cloud API, once, without retrying.</summary>
public interface IWhatsAppSender
{
    /// <summary>Sends <paramref name="message"/> and classifies the outcome. Only throws <see cref="ArgumentException"/> for invalid input.</summary>
    /// <param name="from">The business number it goes out from.</param>
    /// <param name="message">The message to send.</param>
    /// <param name="cancellationToken">Cancels the call; a cancelled send is reported as <see cref="SendOutcome.Unknown"/>.</param>
    Task<SendResult> SendAsync(Sender from, OutgoingMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether WhatsApp answers for the sender now, by reading its own number (no message is sent): <see cref="SendOutcome.Accepted"/>
    /// for an answer, <see cref="SendOutcome.Unknown"/> for a 5xx, a timeout or no connection, <see cref="SendOutcome.StopTheLine"/>
    /// for a refusal (e.g. the token).
    /// </summary>
    /// <param name="from">The business number.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<SendOutcome> ProbeAsync(Sender from, CancellationToken cancellationToken = default);
}
