using System.Net.Http.Headers;

namespace Bot.WhatsAppClient;

/// <summary>Adds the sending number's access token to every request; the sender travels in the request's options.</summary>
internal sealed class BearerTokenHandler(SenderDirectory senders) : DelegatingHandler
{
    public const string SenderOption = "whatsapp.sender";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Looked up per request so a rotated token (after a 190) takes effect without restarting the host.
        if (((IDictionary<string, object?>)request.Options).TryGetValue(SenderOption, out var sender) && sender is string senderId)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", senders.AccessTokenOf(senderId));
        return base.SendAsync(request, cancellationToken);
    }
}
