using System.Security.Cryptography;
using System.Text;
using Bot.WhatsAppClient;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Checks Meta's <c>X-Hub-Signature-256</c> over the raw request bytes before anything parses them: the HMAC is
/// of the bytes as sent, and re-serialised JSON would not match. The verified bytes are handed to the handler.
/// </summary>
public static class WhatsAppSignature
{
    public const string HeaderName = "X-Hub-Signature-256";

    /// <summary>Meta's largest webhook payload.</summary>
    public const int MaxBodyBytes = 3 * 1024 * 1024;

    private const string Prefix = "sha256=";
    private static readonly object RawBodyKey = new();

    /// <summary>Only requests signed with <c>WhatsApp:AppSecret</c> reach the handler; others get 401 (413 when too big).</summary>
    public static RouteHandlerBuilder RequireWhatsAppSignature(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<SignatureFilter>();

    /// <summary>The request body whose signature the filter verified.</summary>
    public static ReadOnlyMemory<byte> VerifiedBody(this HttpContext context) =>
        context.Items.TryGetValue(RawBodyKey, out var body) && body is byte[] bytes
            ? bytes
            : throw new InvalidOperationException("The endpoint is missing RequireWhatsAppSignature().");

    /// <summary>Constant-time check of a header value against the body; hex in either case.</summary>
    public static bool IsValid(string? header, ReadOnlySpan<byte> body, string appSecret)
    {
        if (header is null || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)) return false;
        var hex = header.AsSpan(Prefix.Length).Trim();
        if (hex.Length != HMACSHA256.HashSizeInBytes * 2) return false;
        Span<byte> provided = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(hex, provided, out _, out var written) != System.Buffers.OperationStatus.Done ||
            written != provided.Length) return false;
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, provided);
    }

    private sealed class SignatureFilter(IOptions<WhatsAppOptions> options) : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var http = context.HttpContext;
            var request = http.Request;
            if (request.ContentLength > MaxBodyBytes) return TooLarge();
            // Unsigned requests are turned away before their body is even read.
            if (!request.Headers.TryGetValue(HeaderName, out var values) || values.Count != 1) return Unauthorized();

            // Buffered so the body stays readable after the check; the cap is enforced by the read below.
            request.EnableBuffering();
            var body = await ReadCappedAsync(request.Body, http.RequestAborted);
            if (body is null) return TooLarge();
            request.Body.Position = 0;

            if (!IsValid(values[0], body, options.Value.AppSecret)) return Unauthorized();
            http.Items[RawBodyKey] = body;
            return await next(context);
        }

        /// <summary>The whole body, or null when it is larger than <see cref="MaxBodyBytes"/> (chunked bodies have no length).</summary>
        private static async Task<byte[]?> ReadCappedAsync(Stream body, CancellationToken cancellationToken)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes) return null;
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }

        private static ProblemHttpResult Unauthorized() => TypedResults.Problem(
            title: "Invalid signature",
            detail: $"The {HeaderName} header is missing or does not match the body.",
            statusCode: StatusCodes.Status401Unauthorized);

        private static ProblemHttpResult TooLarge() => TypedResults.Problem(
            title: "Payload too large",
            detail: $"Webhook payloads are at most {MaxBodyBytes / (1024 * 1024)} MB.",
            statusCode: StatusCodes.Status413PayloadTooLarge);
    }
}
