using Bot.Core.Templates;
using Bot.Webhook.Employers;
using Bot.WhatsAppClient;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bot.Webhook.Templates;

/// <summary>A template variant as <c>GET /api/templates</c> shows it.</summary>
public sealed record TemplateResponse(
    string Name, string Language, string Status, string Category, string QualityScore, int Parameters, string Header, bool QuickReply, string? Body)
{
    public static TemplateResponse From(TemplateInfo t) =>
        new(t.Name, t.Language, t.Status, t.Category, t.QualityScore, t.Parameters, t.Header, t.QuickReply, t.Body);
}

/// <summary>The answer of a sync: how many variants the sender's catalog holds now.</summary>
public sealed record TemplateSyncResponse(string Sender, int Count);

/// <summary><c>GET /api/templates</c>, the catalog sync on demand, and the services behind them.</summary>
public static class TemplatesApi
{
    public static IHostApplicationBuilder AddTemplates(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TemplatesOptions>().BindConfiguration(TemplatesOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<TemplateSync>();
        builder.Services.AddSingleton<TemplateChanges>();
        builder.Services.AddSingleton<TemplateChecks>();
        builder.Services.AddSingleton<TemplateSyncService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TemplateSyncService>());
        return builder;
    }

    public static RouteGroupBuilder MapTemplates(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/templates").RequireEmployer().WithTags("Templates");
        group.MapGet("/", ListAsync)
            .WithSummary("List the templates of the employer's WhatsApp number")
            .WithDescription("Every variant (a name in one language) of the sender's WhatsApp Business Account, as synced from WhatsApp and changed by its template webhooks: `status`, `category` (a MARKETING template is not meant for internal announcements), `qualityScore`, the number of body `parameters`, the `header` kind (none, text, image, document, video) and whether it has `quickReply` buttons. Empty when the sender has no WABA id.");
        return group;
    }

    private static async Task<Ok<TemplateResponse[]>> ListAsync(Employer employer, SenderDirectory senders, TemplateCatalog catalog)
    {
        var sender = senders.ForEmployer(employer.Id);
        return TypedResults.Ok(sender.WabaId is null ? [] : (await catalog.AllAsync(sender.Id)).Select(TemplateResponse.From).ToArray());
    }

    /// <summary>
    /// <c>POST /admin/senders/{id}/templates/sync</c>: reads the sender's catalog from WhatsApp now. 200 with the count;
    /// 404 for an unknown sender; 409 when it has no WABA id; 502 when WhatsApp did not answer (the last catalog stays).
    /// Mapped by the operator API's admin group.
    /// </summary>
    public static async Task<Results<Ok<TemplateSyncResponse>, NotFound, ProblemHttpResult>> SyncSenderAsync(
        string id, SenderDirectory senders, TemplateSync sync, CancellationToken cancellationToken)
    {
        if (senders.All.FirstOrDefault(s => s.Id == id) is not { } sender) return TypedResults.NotFound();
        try
        {
            return await sync.SyncAsync(sender, cancellationToken) is { } count
                ? TypedResults.Ok(new TemplateSyncResponse(sender.Id, count))
                : TypedResults.Problem(title: "No WABA id", detail: $"Sender '{id}' has no WabaId: it keeps no template catalog.", statusCode: StatusCodes.Status409Conflict);
        }
        catch (TemplateSyncException ex)
        {
            return TypedResults.Problem(title: "WhatsApp did not answer", detail: ex.Message, statusCode: StatusCodes.Status502BadGateway);
        }
    }
}
