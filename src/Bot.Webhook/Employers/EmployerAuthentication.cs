using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Bot.Core;
using Bot.Core.Tenants;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Employers;

/// <summary>The employer an API key belongs to; bound from the authenticated request.</summary>
public sealed record Employer(string Id)
{
    public const string ClaimType = "employer";

    /// <summary>The id of the API key that authenticated the request: the audit trail's actor <c>key:&lt;id&gt;</c>.</summary>
    public const string KeyClaimType = "apikey";

    public static ValueTask<Employer?> BindAsync(HttpContext context) =>
        ValueTask.FromResult(context.User.FindFirst(ClaimType)?.Value is { } id ? new Employer(id) : null);
}

/// <summary>An authenticated key: its employer, and its id (<see cref="EmployerDirectory.ConfigurationKeyId"/> for a configured key).</summary>
public sealed record EmployerKey(string EmployerId, string KeyId);

/// <summary>
/// API keys from <c>Employers:&lt;employerId&gt;:ApiKey</c> and those issued through the operator API (this host's copy,
/// refreshed within <c>Tenants:RefreshInterval</c>, so a revoked key is refused everywhere soon after), looked up by their SHA-256.
/// </summary>
public sealed class EmployerDirectory
{
    public const int MinimumKeyLength = 16;

    /// <summary>The key id of a key from configuration, in the audit trail.</summary>
    public const string ConfigurationKeyId = "configuration";

    private readonly Dictionary<string, string> employerByKeyHash = [];
    private readonly TenantCache tenants;
    private readonly TenantStore store;
    private readonly TimeProvider time;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> lastMarked = new(StringComparer.Ordinal);

    public EmployerDirectory(IConfiguration configuration, TenantCache tenants, TenantStore store, TimeProvider time)
    {
        this.tenants = tenants;
        this.store = store;
        this.time = time;
        foreach (var employer in configuration.GetSection("Employers").GetChildren())
        {
            var key = employer["ApiKey"];
            var path = $"Employers:{employer.Key}:ApiKey";
            if (!Ids.IsValid(employer.Key))
                throw new OptionsValidationException(path, typeof(EmployerDirectory), [$"Employers:{employer.Key}: an employer id is 1-64 letters, digits, '.', '_', '-' or '@'."]);
            if (key is null || key.Length < MinimumKeyLength)
                throw new OptionsValidationException(path, typeof(EmployerDirectory), [$"{path} must be set to a secret of at least {MinimumKeyLength} characters."]);
            if (!employerByKeyHash.TryAdd(Hash(key), employer.Key))
                throw new OptionsValidationException(path, typeof(EmployerDirectory), [$"{path} is the same key as another employer's."]);
        }
        // With the operator API on, employers may all be made at runtime.
        if (employerByKeyHash.Count == 0 && string.IsNullOrEmpty(configuration[Admin.AdminOptions.ApiKeyPath]))
            throw new OptionsValidationException("Employers", typeof(EmployerDirectory), ["Employers: no employer is configured; set Employers:<employerId>:ApiKey."]);
    }

    public int Count => employerByKeyHash.Count;

    /// <summary>
    /// Hashing first means the dictionary compares digests, not the secret itself, so lookup time tells an
    /// attacker nothing about how close a guess was.
    /// </summary>
    public string? Find(string apiKey) => Resolve(apiKey)?.EmployerId;

    /// <summary>The employer and key id of <paramref name="apiKey"/>; null for an unknown or revoked key.</summary>
    public EmployerKey? Resolve(string apiKey)
    {
        var hash = Hash(apiKey);
        if (employerByKeyHash.GetValueOrDefault(hash) is { } configured) return new EmployerKey(configured, ConfigurationKeyId);
        if (tenants.Current.ActiveKeysByHash.GetValueOrDefault(hash) is not { } issued) return null;
        // lastUsedAt to the minute is enough, and keeps a busy key from writing to Redis on every request.
        var now = time.GetUtcNow();
        if (now - lastMarked.GetValueOrDefault(issued.Id) >= TimeSpan.FromMinutes(1))
        {
            lastMarked[issued.Id] = now;
            store.MarkUsed(issued.Id);
        }
        return new EmployerKey(issued.EmployerId, issued.Id);
    }

    private static string Hash(string key) => TenantStore.HashKey(key);
}

/// <summary>Authenticates <c>X-Api-Key</c>; a missing or unknown key gets a 401 ProblemDetails.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    EmployerDirectory employers,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
            return Task.FromResult(AuthenticateResult.NoResult());
        if (employers.Resolve(values[0]!) is not { } key)
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        var identity = new ClaimsIdentity([new Claim(Employer.ClaimType, key.EmployerId), new Claim(Employer.KeyClaimType, key.KeyId)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = SchemeName;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = $"Send your employer API key in the {HeaderName} header.",
            },
        });
    }
}

public static class EmployerAuthenticationExtensions
{
    public const string Policy = "Employer";

    public static IHostApplicationBuilder AddEmployerAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EmployerDirectory>();
        builder.Services.AddHostedService<EmployerDirectoryCheck>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.RequireClaim(Employer.ClaimType));
        return builder;
    }

    /// <summary>Every endpoint of the group needs an employer's API key, and each of its writes goes into the audit trail.</summary>
    public static TBuilder RequireEmployer<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Policy).AddEndpointFilter<TBuilder, Admin.EmployerAuditFilter>();
}

/// <summary>Reads the API keys at start-up, so a bad <c>Employers</c> section stops the host with its key named.</summary>
internal sealed class EmployerDirectoryCheck(EmployerDirectory employers) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.FromResult(employers.Count);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
