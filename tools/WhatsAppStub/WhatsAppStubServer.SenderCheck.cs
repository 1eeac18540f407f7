using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Bot.Tools.WhatsAppStub;

/// <summary>Every send passes here first: counted as it is answered, and its token and phone number id checked as Graph does.</summary>
public sealed partial class WhatsAppStubServer
{
    private Task CountAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || !StubJson.IsMessagesPath(request.Path.Value ?? "")) return next(context);
        return CountSendAsync(context, next);
    }

    private async Task CountSendAsync(HttpContext context, RequestDelegate next)
    {
        // Buffered so WireMock reads the same body after us.
        context.Request.EnableBuffering();
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        context.Request.Body.Position = 0;
        var to = StubJson.ReadTo(body.GetBuffer().AsSpan(0, (int)body.Length));
        var phoneNumberId = StubJson.PhoneNumberIdOf(context.Request.Path.Value ?? "");
        // Counted just before the answer's first byte leaves, so a client that got its answer finds it counted.
        context.Response.OnStarting(() =>
        {
            Received.Add(to, phoneNumberId, context.Response.StatusCode == 200);
            return Task.CompletedTask;
        });
        if (senders.Count > 0 && SenderError(phoneNumberId, context.Request.Headers.Authorization.ToString()) is { } rejection)
        {
            await StubResponses.WriteAsync(context.Response, rejection.Status, rejection.Body);
            return;
        }

        await next(context);
    }

    /// <summary>Graph's answer to a send whose token or phone number id is wrong, checked before any mapping; null when both are right.</summary>
    private (int Status, string Body)? SenderError(string phoneNumberId, string authorization)
    {
        var token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : "";
        if (senders.TryGetValue(phoneNumberId, out var expected) && TokenEquals(token, expected)) return null;
        if (!senders.Values.Any(known => TokenEquals(token, known)))
        {
            return (401, """{"error":{"message":"(#190) Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"AStubTrace190"}}""");
        }

        // A valid token, but not for this number (or no such number): what Graph answers for an id it cannot load.
        var id = JsonEncodedText.Encode(phoneNumberId, StubJson.Options.Encoder);
        return (400, $$$"""{"error":{"message":"Unsupported post request. Object with ID '{{{id}}}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"AStubTrace33"}}""");
    }

    // Constant time: the stub should not teach a client to guess tokens byte by byte, any more than Graph does.
    private static bool TokenEquals(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
