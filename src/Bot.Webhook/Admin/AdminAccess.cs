using System.Security.Cryptography;
using System.Text;
using Bot.Core.Tenants;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Admin;

/// <summary><c>Admin</c>: the operator API's key. Without it the operator API does not exist (every <c>/admin</c> route is 404).</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";
    public const string ApiKeyPath = "Admin:ApiKey";
    public const int MinimumKeyLength = 32;

    public string? ApiKey { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(ApiKey);

    internal sealed class Validation : IValidateOptions<AdminOptions>
    {
        public ValidateOptionsResult Validate(string? name, AdminOptions options) =>
            options.ApiKey is { Length: > 0 and < MinimumKeyLength }
                ? ValidateOptionsResult.Fail($"{ApiKeyPath} must be at least {MinimumKeyLength} characters (or unset, which turns the operator API off).")
                : ValidateOptionsResult.Success;
    }
}

/// <summary>Lets a request through only with the operator's key in <c>X-Admin-Key</c>; else 401.</summary>
public sealed class AdminKeyFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    public const string HeaderName = "X-Admin-Key";

    // Both sides hashed first: equal lengths for the fixed-time comparison, so neither content nor length leaks by timing.
    private readonly byte[] expected = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.ApiKey ?? ""));

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = context.HttpContext.Request.Headers[HeaderName].ToString();
        if (presented.Length > 0 && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), expected))
            return next(context);
        context.HttpContext.Response.Headers.WWWAuthenticate = HeaderName;
        return ValueTask.FromResult<object?>(TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            detail: $"Send the operator key in the {HeaderName} header."));
    }
}

public static class AdminExtensions
{
    public static IHostApplicationBuilder AddAdmin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptions.Validation>();
        return builder;
    }

    /// <summary>The operator API under <c>/admin</c> when <c>Admin:ApiKey</c> is set, and the employer's own audit at <c>/api/audit</c>.</summary>
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder routes)
    {
        routes.MapEmployerAudit();
        if (!routes.ServiceProvider.GetRequiredService<IOptions<AdminOptions>>().Value.Enabled) return routes;
        var group = routes.MapGroup("/admin").AddEndpointFilter<AdminKeyFilter>().WithTags("Operator");
        group.MapSenders();
        group.MapPost("/senders/{id}/templates/sync", Templates.TemplatesApi.SyncSenderAsync)
            .WithSummary("Read a sender's template catalog from WhatsApp now")
            .WithDescription("200 `{sender, count}`; 404 for an unknown sender; 409 when it has no WABA id; 502 when WhatsApp did not answer (the last catalog stays).");
        group.MapEmployersAdmin();
        group.MapAdminAudit();
        return routes;
    }

    /// <summary>Reads the store's view right after a write, so the host that made it serves it at once.</summary>
    internal static async Task<T> RefreshedAsync<T>(this TenantCache tenants, T result)
    {
        await tenants.RefreshAsync();
        return result;
    }
}
