using System.Net;
using System.Text.Json.Nodes;

namespace Bot.Tests.Harness;

public static class Problems
{
    /// <summary>Asserts a 400 ProblemDetails whose <c>errors</c> name <paramref name="field"/>.</summary>
    public static async Task AssertNamesFieldAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(JsonNode.Parse(body)!["errors"]![field]);
    }
}
