using Refit;

namespace Bot.WhatsAppClient;

/// <summary>The Graph API calls this project makes.</summary>
public interface IWhatsAppApi
{
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

    /// <summary>Reads a configured sender's own number with its stored token: the cheapest request that shows WhatsApp answers.</summary>
    /// <param name="version">Graph API version.</param>
    /// <param name="phoneNumberId">The business phone number id.</param>
    /// <param name="fields">The fields to read.</param>
    /// <param name="senderId">The configured sender: <see cref="BearerTokenHandler"/> adds its token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/{version}/{phoneNumberId}")]
    Task<IApiResponse<PhoneNumberInfo>> ReadPhoneNumberAsync(
        string version,
        string phoneNumberId,
        [Query] string fields,
        [Property(BearerTokenHandler.SenderOption)] string senderId,
        CancellationToken cancellationToken);

    /// <summary>One page of a WhatsApp Business Account's templates; <paramref name="after"/> is the previous page's <c>paging.cursors.after</c>.</summary>
    /// <param name="version">Graph API version.</param>
    /// <param name="wabaId">The WhatsApp Business Account.</param>
    /// <param name="fields">The fields to list.</param>
    /// <param name="limit">Templates per page (Graph allows up to 100 here).</param>
    /// <param name="after">The cursor of the page to read; null for the first.</param>
    /// <param name="senderId">A sender of the account: its token reads the catalog.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Get("/{version}/{wabaId}/message_templates")]
    Task<IApiResponse<TemplatePage>> ListTemplatesAsync(
        string version,
        string wabaId,
        [Query] string fields,
        [Query] int limit,
        [Query] string? after,
        [Property(BearerTokenHandler.SenderOption)] string senderId,
        CancellationToken cancellationToken);

    /// <summary>Uploads a file to a number's media store; the id answered is valid 30 days, for that number only.</summary>
    /// <param name="version">Graph API version.</param>
    /// <param name="phoneNumberId">The number that will send it.</param>
    /// <param name="messagingProduct">Always <c>whatsapp</c>.</param>
    /// <param name="type">The file's MIME type.</param>
    /// <param name="file">The bytes, streamed.</param>
    /// <param name="senderId">The sender whose token uploads.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    [Multipart]
    [Post("/{version}/{phoneNumberId}/media")]
    Task<IApiResponse<MediaUploadResponse>> UploadMediaAsync(
        string version,
        string phoneNumberId,
        [AliasAs("messaging_product")] string messagingProduct,
        [AliasAs("type")] string type,
        [AliasAs("file")] StreamPart file,
        [Property(BearerTokenHandler.SenderOption)] string senderId,
        CancellationToken cancellationToken);
}
