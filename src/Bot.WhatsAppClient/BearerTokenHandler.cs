using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace Bot.WhatsAppClient;

/// <summary>Adds the Graph access token to every request.</summary>
internal sealed class BearerTokenHandler(IOptionsMonitor<WhatsAppOptions> options) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Read per request so a rotated token (after a 190) takes effect without restarting the host.
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.CurrentValue.AccessToken);
        return base.SendAsync(request, cancellationToken);
    }
}
