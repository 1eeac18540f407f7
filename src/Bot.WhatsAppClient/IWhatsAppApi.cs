using Refit;

namespace Bot.WhatsAppClient;

/// <summary>The Graph API calls this project makes.</summary>
public interface IWhatsAppApi
{
    /// <summary>Sends one message. HTTP and transport failures come back in the response; caller cancellation throws.</summary>
    /// <param name="version">Graph API version, e.g. <c>v23.0</c>.</param>
    /// <param name="phoneNumberId">The sending business phone number id.</param>
    /// <param name="request">The message.</param>
    /// <param name="senderId">The configured sender: <see cref="BearerTokenHandler"/> adds its token, so no token is a parameter here.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Post("/{version}/{phoneNumberId}/messages")]
    Task<IApiResponse<SendMessageResponse>> SendMessageAsync(
        string version,
        string phoneNumberId,
        [Body] SendMessageRequest request,
        [Property(BearerTokenHandler.SenderOption)] string senderId,
        CancellationToken cancellationToken);
}
