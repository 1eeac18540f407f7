using Bot.Core.Announcements;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Bot.Core.Tenants;

public static class TenantServiceCollectionExtensions
{
    /// <summary>
    /// The runtime tenants: their store, this host's refreshed copy (a hosted service: register it before the services that
    /// use the tenants, so it loads first), the employers' timings kept up to date from it, and Data Protection with its
    /// key ring in Redis under one application name. Needs the prefixed <see cref="IDatabase"/> (AddRedis).
    /// </summary>
    public static IServiceCollection AddTenants(this IServiceCollection services)
    {
        services.AddOptions<TenantOptions>().BindConfiguration(TenantOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TenantStore>();
        services.TryAddSingleton<SecretProtector>();
        services.TryAddSingleton<TenantCache>();
        services.AddHostedService(sp => sp.GetRequiredService<TenantCache>());
        services.AddEmployerTimings();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITenantListener, EmployerTimingListener>());
        services.AddDataProtection().SetApplicationName(SecretProtector.ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((o, sp) =>
            o.XmlRepository = new RedisXmlRepository(sp.GetRequiredService<IDatabase>, TenantKeys.DataProtectionKeys));
        return services;
    }

    private sealed class EmployerTimingListener(EmployerTimings timings) : ITenantListener
    {
        public void Apply(TenantState state) => timings.Apply(state.Employers.Values.ToDictionary(e => e.Id,
            e => new EmployerTiming(WallClock.Zone(e.TimeZone) ?? NodaTime.DateTimeZone.Utc, QuietHours.Parse(e.QuietHours)), StringComparer.Ordinal));
    }
}
