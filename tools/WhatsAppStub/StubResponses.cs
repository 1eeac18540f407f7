using Microsoft.AspNetCore.Http;
using WireMock;
using WireMock.Types;
using WireMock.Util;

namespace Bot.Tools.WhatsAppStub;

/// <summary>JSON answers written by code, from middleware or from a WireMock callback.</summary>
internal static class StubResponses
{
    public static Task WriteAsync(HttpResponse response, int status, string body)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        return response.WriteAsync(body);
    }

    public static ResponseMessage Json(int status, string body) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new BodyData { BodyAsString = body, DetectedBodyType = BodyType.String },
    };
}
