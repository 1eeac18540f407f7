using Bot.WhatsAppClient;

namespace Bot.Webhook.Employers;

/// <summary>The number an employer's messages go out from, and what WhatsApp allows it.</summary>
public sealed record SenderResponse(string Id, string PhoneNumberId, int MessagesPerSecond, string Portfolio, int MessagingLimit, TimeSpan MessagingLimitWindow);

public sealed record EmployerResponse(string Id, SenderResponse Sender, FallbackTemplate? FallbackTemplate, TimeSpan CustomerServiceWindow);

public static class EmployerApi
{
    public static RouteHandlerBuilder MapEmployer(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/employer", (Employer employer, SenderDirectory senders) =>
            {
                var sender = senders.ForEmployer(employer.Id);
                var portfolio = senders.PortfolioOf(sender);
                return TypedResults.Ok(new EmployerResponse(employer.Id,
                    new SenderResponse(sender.Id, sender.PhoneNumberId, sender.MessagesPerSecond, portfolio.Id, portfolio.MessagingLimit, portfolio.Window),
                    senders.FallbackTemplateOf(employer.Id), senders.CustomerServiceWindow));
            })
            .RequireEmployer().WithTags("Employer")
            .WithSummary("Who you are and which WhatsApp number sends for you")
            .WithDescription("The sender (its phone number id, messages per second, portfolio and messaging limit) and the fallback template used for employees outside the 24-hour window.");
}
