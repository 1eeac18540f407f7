using Bot.Core.Tenants;
using Bot.WhatsAppClient;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Bot.Hosting;

public static class RuntimeTenantExtensions
{
    /// <summary>
    /// The tenants made through the operator API, served by every host next to the configured ones: the sender directory
    /// (numbers, tokens, portfolios, employers' senders and fallback templates) and the employers' timings follow each
    /// change within <c>Tenants:RefreshInterval</c>. Call after AddRedis and AddWhatsAppClient, before AddDispatcher.
    /// </summary>
    public static IHostApplicationBuilder AddRuntimeTenants(this IHostApplicationBuilder builder)
    {
        builder.Services.AddTenants();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITenantListener, SenderDirectoryListener>());
        return builder;
    }

    /// <summary>Decrypts the tokens into the directory's memory, where the configured tokens are too; Redis keeps them encrypted.</summary>
    private sealed class SenderDirectoryListener(SenderDirectory senders, SecretProtector secrets) : ITenantListener
    {
        public void Apply(TenantState state) => senders.Apply(new RuntimeTenants(
            [.. state.Senders.Values.Select(s => new RuntimeSender(s.Id, s.PhoneNumberId, secrets.Unprotect(s.ProtectedToken), s.MessagesPerSecond,
                string.IsNullOrEmpty(s.Portfolio) ? s.Id : s.Portfolio))],
            [.. state.Portfolios.Values.Select(p => new Portfolio(p.Id, p.MessagingLimit, p.MessagingLimitWindow))],
            [.. state.Employers.Values.Select(e => new RuntimeEmployer(e.Id, e.Sender,
                e.FallbackTemplate is { } t ? new FallbackTemplate(t.Name, t.Language) : null))]));
    }
}
