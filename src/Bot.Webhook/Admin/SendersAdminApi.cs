using System.Text.Json;
using System.Text.RegularExpressions;
using Bot.Core.Tenants;
using Bot.WhatsAppClient;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Admin;

public sealed record PutSenderRequest(string? PhoneNumberId, string? AccessToken, string? WabaId, int? MessagesPerSecond, string? Portfolio);

/// <summary>A sender as the operator sees it: never its token.</summary>
public sealed record SenderView(
    string Id, string PhoneNumberId, string? WabaId, int MessagesPerSecond, string Portfolio, string? DisplayPhoneNumber,
    string? VerifiedName, string? QualityRating, DateTimeOffset? TokenUpdatedAt, string Source);

public sealed record PutPortfolioRequest(int? MessagingLimit, TimeSpan? MessagingLimitWindow);

public sealed record PortfolioView(string Id, int MessagingLimit, TimeSpan MessagingLimitWindow, string Source);

public static partial class SendersAdminApi
{
    public const string FromConfiguration = "configuration", FromApi = "api";

    public static RouteGroupBuilder MapSenders(this RouteGroupBuilder group)
    {
        group.MapPut("/senders/{senderId}", PutAsync)
            .WithSummary("Add or change a WhatsApp number")
            .WithDescription("A new token (or a new phone number id) is checked with WhatsApp first; its answer (display number, verified name, quality rating) is stored. 400 `accessToken` when WhatsApp refuses the token; 409 for a sender defined in configuration.");
        group.MapGet("/senders", ListAsync).WithSummary("List the WhatsApp numbers");
        group.MapGet("/senders/{senderId}", GetAsync).WithSummary("Get a WhatsApp number");
        group.MapPut("/portfolios/{portfolioId}", PutPortfolioAsync).WithSummary("Set a business portfolio's messaging limit");
        return group;
    }

    private static async Task<Results<Created<SenderView>, Ok<SenderView>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string senderId, PutSenderRequest request, SenderDirectory senders, TenantStore store, TenantCache tenants, SecretProtector secrets,
        IWhatsAppApi whatsApp, IOptions<WhatsAppOptions> whatsAppOptions, TimeProvider time, CancellationToken cancellationToken)
    {
        if (senders.IsConfiguredSender(senderId)) return ReadOnly($"Sender '{senderId}'");
        var existing = SenderIdPattern().IsMatch(senderId) ? await store.GetAsync<SenderRecord>(TenantKeys.Senders, senderId) : null;
        var errors = new Dictionary<string, string[]>();
        if (!SenderIdPattern().IsMatch(senderId)) errors["senderId"] = ["A sender id is 1-64 letters, digits, '.', '_' or '-'."];
        var phoneNumberId = request.PhoneNumberId?.Trim();
        if (phoneNumberId is null || !Digits().IsMatch(phoneNumberId)) errors["phoneNumberId"] = ["phoneNumberId is the number's id in the Cloud API (digits)."];
        else if (senders.FindByPhoneNumberId(phoneNumberId) is { } holder && holder.Id != senderId)
            errors["phoneNumberId"] = [$"This number is already sender '{holder.Id}': inbound messages could not tell them apart."];
        if (request.AccessToken is { } t && string.IsNullOrWhiteSpace(t) || request.AccessToken is null && existing is null)
            errors["accessToken"] = ["accessToken is required for a new sender: the Cloud API access token of the number."];
        if (request.WabaId is { } waba && !Digits().IsMatch(waba)) errors["wabaId"] = ["wabaId is the WhatsApp Business Account id (digits)."];
        var rate = request.MessagesPerSecond ?? existing?.MessagesPerSecond ?? 80;
        if (rate is < 1 or > 1000) errors["messagesPerSecond"] = ["messagesPerSecond is between 1 and 1000."];
        if (request.Portfolio is { } p && !SenderIdPattern().IsMatch(p)) errors["portfolio"] = ["A portfolio id is 1-64 letters, digits, '.', '_' or '-'."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var token = request.AccessToken?.Trim() ?? secrets.Unprotect(existing!.ProtectedToken);
        var now = time.GetUtcNow();
        var record = existing is not null && request.AccessToken is null && existing.PhoneNumberId == phoneNumberId
            ? existing with { WabaId = request.WabaId ?? existing.WabaId, MessagesPerSecond = rate, Portfolio = request.Portfolio ?? existing.Portfolio, UpdatedAt = now }
            : null;
        if (record is null)
        {
            // Asked before anything is stored: a token WhatsApp refuses never becomes a sender.
            var answer = await whatsApp.GetPhoneNumberAsync(whatsAppOptions.Value.ApiVersion, phoneNumberId!, PhoneNumberInfo.Fields, token, cancellationToken);
            if (!answer.IsSuccessStatusCode || answer.Content is null)
                return answer.StatusCode is { } status && (int)status is >= 400 and < 500
                    ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["accessToken"] = [$"WhatsApp refused the token for this number: {GraphMessage((answer.Error as Refit.ApiException)?.Content)}"] })
                    : TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "WhatsApp could not be asked", detail: "The token could not be checked; nothing was stored. Try again.");
            var info = answer.Content;
            record = new SenderRecord(senderId, phoneNumberId!, secrets.Protect(token), request.WabaId ?? existing?.WabaId, rate, request.Portfolio ?? existing?.Portfolio,
                info.DisplayPhoneNumber, info.VerifiedName, info.QualityRating, request.AccessToken is null ? existing!.TokenUpdatedAt : now, now);
        }
        var created = await store.WriteAsync([TenantOp.Set(TenantKeys.Senders, senderId, record)],
            new AuditEvent(AuditActor.Admin, "sender.put", senderId, null));
        var view = await tenants.RefreshedAsync(View(record));
        return created ? TypedResults.Created($"/admin/senders/{senderId}", view) : TypedResults.Ok(view);
    }

    private static async Task<Ok<List<SenderView>>> ListAsync(SenderDirectory senders, TenantStore store)
    {
        var runtime = (await store.LoadAsync()).Senders.Values.Select(View);
        var configured = senders.All.Where(s => senders.IsConfiguredSender(s.Id)).Select(s => Configured(s));
        return TypedResults.Ok(configured.Concat(runtime).OrderBy(s => s.Id, StringComparer.Ordinal).ToList());
    }

    private static async Task<Results<Ok<SenderView>, NotFound>> GetAsync(string senderId, SenderDirectory senders, TenantStore store)
    {
        if (senders.IsConfiguredSender(senderId)) return TypedResults.Ok(Configured(senders.Get(senderId)));
        return SenderIdPattern().IsMatch(senderId) && await store.GetAsync<SenderRecord>(TenantKeys.Senders, senderId) is { } record
            ? TypedResults.Ok(View(record))
            : TypedResults.NotFound();
    }

    private static async Task<Results<Created<PortfolioView>, Ok<PortfolioView>, ValidationProblem, ProblemHttpResult>> PutPortfolioAsync(
        string portfolioId, PutPortfolioRequest request, SenderDirectory senders, TenantStore store, TenantCache tenants)
    {
        if (senders.IsConfiguredPortfolio(portfolioId)) return ReadOnly($"Portfolio '{portfolioId}'");
        var errors = new Dictionary<string, string[]>();
        if (!SenderIdPattern().IsMatch(portfolioId)) errors["portfolioId"] = ["A portfolio id is 1-64 letters, digits, '.', '_' or '-'."];
        if (request.MessagingLimit is not { } limit || !SenderDirectory.MessagingLimitTiers.Contains(limit))
            errors["messagingLimit"] = [$"messagingLimit is one of WhatsApp's tiers: {string.Join(", ", SenderDirectory.MessagingLimitTiers.Skip(1))}, or 0 for unlimited."];
        var window = request.MessagingLimitWindow ?? TimeSpan.FromDays(1);
        if (window <= TimeSpan.Zero) errors["messagingLimitWindow"] = ["messagingLimitWindow must be positive."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var record = new PortfolioRecord(portfolioId, request.MessagingLimit!.Value, window);
        var created = await store.WriteAsync([TenantOp.Set(TenantKeys.Portfolios, portfolioId, record)],
            new AuditEvent(AuditActor.Admin, "portfolio.put", portfolioId, null));
        var view = await tenants.RefreshedAsync(new PortfolioView(portfolioId, record.MessagingLimit, window, FromApi));
        return created ? TypedResults.Created($"/admin/portfolios/{portfolioId}", view) : TypedResults.Ok(view);
    }

    internal static ProblemHttpResult ReadOnly(string what) => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
        title: "Defined in configuration", detail: $"{what} is defined in configuration and read-only here; change it in configuration.");

    private static SenderView View(SenderRecord r) => new(r.Id, r.PhoneNumberId, r.WabaId, r.MessagesPerSecond, string.IsNullOrEmpty(r.Portfolio) ? r.Id : r.Portfolio,
        r.DisplayPhoneNumber, r.VerifiedName, r.QualityRating, r.TokenUpdatedAt, FromApi);

    private static SenderView Configured(Sender s) => new(s.Id, s.PhoneNumberId, null, s.MessagesPerSecond, s.Portfolio, null, null, null, null, FromConfiguration);

    private static string GraphMessage(string? body)
    {
        try
        {
            return body is null ? "no answer" : JsonSerializer.Deserialize<GraphErrorEnvelope>(body)?.Error?.Message ?? "no reason given";
        }
        catch (JsonException)
        {
            return "an answer that is not a Graph error";
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    internal static partial Regex SenderIdPattern();

    [GeneratedRegex("^[0-9]{1,32}$")]
    private static partial Regex Digits();
}
