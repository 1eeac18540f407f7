using System.Text.Json.Nodes;
using Bot.Webhook.Announcements;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Bot.Webhook.Api;

/// <summary>
/// The employer API's OpenAPI document (<c>/openapi/v1.json</c>) and a browsable reference (Scalar, <c>/scalar/v1</c>).
/// Only the employer API is described: <c>/webhook</c> is Meta's contract, not the employer's, and health,
/// metrics and the portal are not API.
/// </summary>
public static class ApiDocs
{
    public const string DocumentName = "v1";
    public const string SecuritySchemeName = "ApiKey";

    public static IHostApplicationBuilder AddApiDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = d => d.RelativePath is { } path &&
                (path.StartsWith("api/", StringComparison.Ordinal) || path.StartsWith("send_announcement", StringComparison.Ordinal));
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Announcements API",
                    Version = DocumentName,
                    Description =
                        "Send announcements to employees over WhatsApp, now or at a chosen time, each employee at most once. " +
                        $"Every route needs the employer's API key in the `{ApiKeyAuthenticationHandler.HeaderName}` header. " +
                        "Errors are RFC 7807 ProblemDetails (`application/problem+json`), with `errors.<field>` for validation " +
                        "problems; another employer's ids are 404.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[SecuritySchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyAuthenticationHandler.HeaderName,
                    Description = "The employer's API key (Employers:<employerId>:ApiKey).",
                };
                // Every described route needs the key, so the requirement is document-wide.
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecuritySchemeName, document)] = [] }];
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                operation.Responses ??= new OpenApiResponses();
                operation.Responses.TryAdd("401", new OpenApiResponse { Description = $"Missing or unknown {ApiKeyAuthenticationHandler.HeaderName}." });
                // Group roots are described as "api/announcements/"; the examples are keyed without the slash.
                var route = $"{context.Description.HttpMethod} {context.Description.RelativePath?.TrimEnd('/')}";
                foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
                {
                    if (parameter.Name == AnnouncementsApi.IdempotencyKeyHeader)
                        parameter.Description = $"Up to {AnnouncementValidation.MaxIdempotencyKeyLength} printable characters, new for each announcement: a retry with the same key " +
                            "returns the announcement created first (200) instead of creating another.";
                }
                if (operation.RequestBody?.Content?.TryGetValue("text/csv", out var csv) == true)
                    csv.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "employeeId,phone,name,department,location,language,timeZone,tags columns, matched by the header line in any order (without one, in this order); tags ';'-separated." };
                if (ApiExamples.Requests.TryGetValue(route, out var request) &&
                    operation.RequestBody?.Content?.TryGetValue(request.ContentType, out var body) == true)
                {
                    if (request.Named is { } named)
                        body.Examples = named.ToDictionary(e => e.Key, e => (IOpenApiExample)new OpenApiExample { Summary = e.Value.Summary, Value = e.Value.Example() });
                    else
                        body.Example = request.Example();
                }
                foreach (var (status, example) in ApiExamples.Responses.GetValueOrDefault(route) ?? [])
                {
                    if (operation.Responses.TryGetValue(status, out var response) &&
                        response.Content?.TryGetValue("application/json", out var content) == true)
                        content.Example = example();
                }
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder routes)
    {
        routes.MapOpenApi().AllowAnonymous();
        routes.MapScalarApiReference(options => options
                .WithTitle("Announcements API")
                .AddPreferredSecuritySchemes(SecuritySchemeName)
                .AddApiKeyAuthentication(SecuritySchemeName, _ => { }))
            .AllowAnonymous();
        return routes;
    }
}

/// <summary>The README's "API examples", as examples in the document (fresh nodes each time: a node has one parent).</summary>
internal static class ApiExamples
{
    public sealed record RequestExample(string ContentType, Func<JsonNode?> Example, Dictionary<string, (string Summary, Func<JsonNode?> Example)>? Named = null);

    private static Func<JsonNode?> Json(string json) => () => JsonNode.Parse(json);

    private const string Employee =
        """
        {"employeeId":"e1001","phone":"+16505551234","name":"Sheena Nelson","status":"active","updatedAt":"2026-11-20T09:30:00+00:00",
         "department":"Logistics","location":"Berlin","language":"de-DE","timeZone":"Europe/Berlin","tags":["forklift","night-shift"]}
        """;
    private const string TextNow = """{"message":"Our end of year party is on Saturday evening!"}""";
    private const string Accepted = """{"id":"3f1c9a7e2b5d4c6f8a0b1c2d3e4f5a6b","status":"scheduled","sendAt":"2026-11-28T17:00:00+00:00"}""";
    private const string Announcement =
        """
        {"id":"3f1c9a7e2b5d4c6f8a0b1c2d3e4f5a6b","status":"completed","sendAt":"2026-11-28T17:00:00+00:00",
         "createdAt":"2026-11-28T16:59:58+00:00","message":"Our end of year party is on Saturday evening!","template":null,
         "recipients":"all","counts":{"targeted":1000,"sent":997,"delivered":0,"read":0,"failed":2,"unknown":1,"skipped":0}}
        """;

    public static readonly Dictionary<string, RequestExample> Requests = new()
    {
        ["PUT api/employees/{employeeId}"] = new("application/json", Json(
            """{"phone":"+1 650 555 1234","name":"Sheena Nelson","department":"Logistics","location":"Berlin","language":"de-DE","timeZone":"Europe/Berlin","tags":["forklift","night-shift"]}""")),
        ["POST api/employees/import"] = new("text/csv", () => JsonValue.Create("employeeId,phone,name,department,location,tags\ne1002,+16505551235,Ann,Logistics,Berlin,forklift;night-shift\ne1003,nope,Bob,Sales,Hamburg,\n")),
        ["POST api/announcements"] = new("application/json", Json(TextNow), new()
        {
            ["textNow"] = ("Send a text to everyone now", Json(TextNow)),
            ["scheduledTemplate"] = ("Schedule a template for some employees", Json(
                """
                {"template":{"name":"shift_notice","language":"en_US","parameters":["Saturday"]},
                 "sendAt":"2026-12-24T18:00:00+01:00","employeeIds":["e1001","e1002"]}
                """)),
            ["audience"] = ("Send to night-shift logistics staff in Berlin or Hamburg", Json(
                """{"message":"The loading dock closes at 22:00 tonight.","audience":{"departments":["Logistics"],"locations":["Berlin","Hamburg"],"tags":["night-shift"]}}""")),
        }),
        ["POST send_announcement"] = new("application/json", Json("""{"id":"party-2026","message":"Our end of year party is on Saturday evening!"}""")),
    };

    public static readonly Dictionary<string, Dictionary<string, Func<JsonNode?>>> Responses = new()
    {
        ["PUT api/employees/{employeeId}"] = new() { ["201"] = Json(Employee), ["200"] = Json(Employee) },
        ["GET api/employees/{employeeId}"] = new() { ["200"] = Json(Employee) },
        ["GET api/employees"] = new() { ["200"] = Json($$"""{"items":[{{Employee}}],"nextCursor":"e1050"}""") },
        ["POST api/employees/import"] = new()
        {
            ["200"] = Json("""{"created":1,"updated":0,"unchanged":0,"rejected":[{"row":2,"error":"'nope' is not a phone number.","line":3,"fields":["phone"]}]}"""),
        },
        ["POST api/employees/{employeeId}/join-code"] = new() { ["201"] = Json("""{"code":"K7QH2MXD","expiresAt":"2026-11-21T09:30:00+00:00"}""") },
        ["POST api/announcements"] = new() { ["202"] = Json(Accepted), ["200"] = Json(Accepted) },
        ["POST send_announcement"] = new() { ["202"] = Json(Accepted) },
        ["GET api/announcements/{id}"] = new() { ["200"] = Json(Announcement) },
        ["GET api/announcements"] = new() { ["200"] = Json($$"""{"items":[{{Announcement}}],"nextCursor":null}""") },
        ["GET api/announcements/{id}/deliveries"] = new()
        {
            ["200"] = Json("""{"items":[{"employeeId":"e1003","state":"failed","messageId":null,"error":"131026","updatedAt":"2026-11-28T17:00:02+00:00"}],"nextCursor":"1"}"""),
        },
    };
}
