using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Tenants;
using Bot.WhatsAppClient;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bot.Webhook.Admin;

public sealed record TemplateRequest(string? Name, string? Language);

public sealed record PutEmployerRequest(string? Name, string? Sender, string? TimeZone, string? QuietHours, string? Language, TemplateRequest? FallbackTemplate);

public sealed record EmployerView(
    string Id, string? Name, string Sender, string? TimeZone, string? QuietHours, string? Language, FallbackTemplate? FallbackTemplate, string Source);

public sealed record IssueKeyRequest(string? Name);

/// <summary>The only answer that carries the key itself.</summary>
public sealed record IssuedKey(string Id, string Key, string? Name, DateTimeOffset CreatedAt);

public sealed record ApiKeyView(string Id, string? Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

public static partial class EmployersAdminApi
{
    public const int MaxNameLength = 200;

    /// <summary>Marks an issued key in logs and secret scanners; the rest is 256 random bits.</summary>
    public const string KeyPrefix = "ak_";

    public static RouteGroupBuilder MapEmployersAdmin(this RouteGroupBuilder group)
    {
        group.MapPut("/employers/{employerId}", PutAsync)
            .WithSummary("Add or change an employer")
            .WithDescription("Its sender, time zone (IANA), quiet hours (HH:mm-HH:mm), language and fallback template. 400 naming the field (unknown sender, bad zone, bad quiet hours); 409 for an employer defined in configuration.");
        group.MapGet("/employers", ListAsync).WithSummary("List the employers");
        group.MapGet("/employers/{employerId}", GetAsync).WithSummary("Get an employer");
        group.MapPost("/employers/{employerId}/api-keys", IssueAsync)
            .WithSummary("Issue an API key").WithDescription("The key (256 random bits) is in this answer only; only its SHA-256 is stored.");
        group.MapGet("/employers/{employerId}/api-keys", KeysAsync).WithSummary("List an employer's API keys");
        group.MapDelete("/employers/{employerId}/api-keys/{keyId}", RevokeAsync)
            .WithSummary("Revoke an API key").WithDescription("Every host refuses it within Tenants:RefreshInterval.");
        return group;
    }

    private static async Task<Results<Created<EmployerView>, Ok<EmployerView>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string employerId, PutEmployerRequest request, SenderDirectory senders, TenantStore store, TenantCache tenants, TimeProvider time)
    {
        if (senders.IsConfiguredEmployer(employerId)) return SendersAdminApi.ReadOnly($"Employer '{employerId}'");
        var errors = new Dictionary<string, string[]>();
        if (!Ids.IsValid(employerId)) errors["employerId"] = ["An employer id is 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit."];
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > MaxNameLength) errors["name"] = [$"name is required, at most {MaxNameLength} characters."];
        if (string.IsNullOrWhiteSpace(request.Sender) || !senders.Contains(request.Sender)) errors["sender"] = [$"sender names no WhatsApp number: '{request.Sender}'. Add it with PUT /admin/senders/{{id}} first."];
        var zone = Blank(request.TimeZone);
        if (zone is not null && WallClock.Zone(zone) is null) errors["timeZone"] = [$"timeZone '{zone}' is not an IANA time zone (such as Europe/Berlin)."];
        var quiet = Blank(request.QuietHours);
        if (quiet is not null && QuietHours.Parse(quiet) is null) errors["quietHours"] = [$"quietHours '{quiet}' is not HH:mm-HH:mm with two different times (such as 21:00-07:00)."];
        var language = Blank(request.Language);
        if (language is not null && !LanguagePattern().IsMatch(language)) errors["language"] = ["language is a language code such as en, de or pt_BR."];
        TemplateRecord? fallback = null;
        if (request.FallbackTemplate is { } t)
        {
            var templateLanguage = Blank(t.Language) ?? language;
            if (string.IsNullOrWhiteSpace(t.Name)) errors["fallbackTemplate.name"] = ["fallbackTemplate.name is the approved template's name."];
            if (templateLanguage is null || !LanguagePattern().IsMatch(templateLanguage))
                errors["fallbackTemplate.language"] = ["fallbackTemplate.language is the template's language code (or set the employer's language)."];
            else if (!string.IsNullOrWhiteSpace(t.Name)) fallback = new TemplateRecord(t.Name.Trim(), templateLanguage);
        }
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var record = new EmployerRecord(employerId, request.Name!.Trim(), request.Sender!, zone, quiet, language, fallback, time.GetUtcNow());
        var created = await store.WriteAsync([TenantOp.Set(TenantKeys.Employers, employerId, record)],
            new AuditEvent(AuditActor.Admin, "employer.put", employerId, employerId));
        var view = await tenants.RefreshedAsync(View(record));
        return created ? TypedResults.Created($"/admin/employers/{employerId}", view) : TypedResults.Ok(view);
    }

    private static async Task<Ok<List<EmployerView>>> ListAsync(SenderDirectory senders, TenantStore store, IConfiguration configuration)
    {
        var configured = configuration.GetSection("Employers").GetChildren().Select(e => Configured(e.Key, senders, configuration));
        var runtime = (await store.LoadAsync()).Employers.Values.Where(e => !senders.IsConfiguredEmployer(e.Id)).Select(View);
        return TypedResults.Ok(configured.Concat(runtime).OrderBy(e => e.Id, StringComparer.Ordinal).ToList());
    }

    private static async Task<Results<Ok<EmployerView>, NotFound>> GetAsync(string employerId, SenderDirectory senders, TenantStore store, IConfiguration configuration)
    {
        if (senders.IsConfiguredEmployer(employerId)) return TypedResults.Ok(Configured(employerId, senders, configuration));
        return await FindAsync(employerId, store) is { } record ? TypedResults.Ok(View(record)) : TypedResults.NotFound();
    }

    private static async Task<Results<Created<IssuedKey>, ValidationProblem, NotFound>> IssueAsync(
        string employerId, IssueKeyRequest? request, SenderDirectory senders, TenantStore store, TenantCache tenants, TimeProvider time)
    {
        if (!senders.IsConfiguredEmployer(employerId) && await FindAsync(employerId, store) is null) return TypedResults.NotFound();
        var name = Blank(request?.Name);
        if (name is { Length: > MaxNameLength }) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [$"name is at most {MaxNameLength} characters."] });
        var key = KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var record = new ApiKeyRecord(RandomNumberGenerator.GetHexString(16, lowercase: true), employerId, name, TenantStore.HashKey(key), time.GetUtcNow(), null);
        await store.WriteAsync([TenantOp.Set(TenantKeys.ApiKeys, record.Id, record), new TenantOp(TenantKeys.ApiKeyHashes, record.Hash, record.Id)],
            new AuditEvent(AuditActor.Admin, "apikey.issue", record.Id, employerId));
        return TypedResults.Created($"/admin/employers/{employerId}/api-keys", await tenants.RefreshedAsync(new IssuedKey(record.Id, key, name, record.CreatedAt)));
    }

    private static async Task<Results<Ok<List<ApiKeyView>>, NotFound>> KeysAsync(string employerId, SenderDirectory senders, TenantStore store)
    {
        if (!senders.IsConfiguredEmployer(employerId) && await FindAsync(employerId, store) is null) return TypedResults.NotFound();
        var used = await store.LastUsedAsync();
        return TypedResults.Ok((await store.LoadAsync()).ApiKeys.Values.Where(k => k.EmployerId == employerId).OrderBy(k => k.CreatedAt)
            .Select(k => new ApiKeyView(k.Id, k.Name, k.CreatedAt, used.TryGetValue(k.Id, out var at) ? at : null, k.RevokedAt)).ToList());
    }

    private static async Task<Results<NoContent, NotFound>> RevokeAsync(string employerId, string keyId, TenantStore store, TenantCache tenants, TimeProvider time)
    {
        // Another employer's key is as unknown as a key that never existed.
        if (await store.GetAsync<ApiKeyRecord>(TenantKeys.ApiKeys, keyId) is not { } key || key.EmployerId != employerId) return TypedResults.NotFound();
        if (key.RevokedAt is not null) return TypedResults.NoContent();
        await store.WriteAsync([TenantOp.Set(TenantKeys.ApiKeys, keyId, key with { RevokedAt = time.GetUtcNow() }), new TenantOp(TenantKeys.ApiKeyHashes, key.Hash, null)],
            new AuditEvent(AuditActor.Admin, "apikey.revoke", keyId, employerId));
        return await tenants.RefreshedAsync(TypedResults.NoContent());
    }

    private static async Task<EmployerRecord?> FindAsync(string employerId, TenantStore store) =>
        Ids.IsValid(employerId) ? await store.GetAsync<EmployerRecord>(TenantKeys.Employers, employerId) : null;

    private static EmployerView View(EmployerRecord e) => new(e.Id, e.Name, e.Sender, e.TimeZone, e.QuietHours, e.Language,
        e.FallbackTemplate is { } t ? new FallbackTemplate(t.Name, t.Language) : null, SendersAdminApi.FromApi);

    private static EmployerView Configured(string id, SenderDirectory senders, IConfiguration configuration)
    {
        var section = configuration.GetSection($"Employers:{id}");
        return new EmployerView(id, section["Name"], senders.ForEmployer(id).Id, section["TimeZone"], section["QuietHours"], section["Language"],
            senders.FallbackTemplateOf(id), SendersAdminApi.FromConfiguration);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")]
    private static partial Regex LanguagePattern();
}
