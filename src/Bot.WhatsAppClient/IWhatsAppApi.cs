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

    /// <summary>
    /// Reads a business number with a token that is not stored yet: a 200 means WhatsApp accepts the token for the
    /// number. The token goes in this request's header only (no sender option is set, so no stored token replaces it).
    /// </summary>
    /// <param name="version">Graph API version, e.g. <c>v23.0</c>.</param>
    /// <param name="phoneNumberId">The business phone number id.</param>
    /// <param name="fields">The fields to read: <see cref="PhoneNumberInfo.Fields"/>.</param>
    /// <param name="accessToken">The token to check.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/{version}/{phoneNumberId}")]
    Task<IApiResponse<PhoneNumberInfo>> GetPhoneNumberAsync(
        string version,
        string phoneNumberId,
        [Query] string fields,
        [Authorize("Bearer")] string accessToken,
        CancellationToken cancellationToken);
}
