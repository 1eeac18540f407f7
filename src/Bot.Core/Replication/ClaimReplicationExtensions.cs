using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Bot.Core.Replication;

public static class ClaimReplicationExtensions
{
    /// <summary><see cref="ClaimReplication"/> and its options (<c>Redis:ClaimReplicas</c>, <c>Redis:ClaimReplicaTimeout</c>); needs <c>AddRedis()</c>.</summary>
    public static IServiceCollection AddClaimReplication(this IServiceCollection services)
    {
        services.AddOptions<ClaimReplicationOptions>()
            .BindConfiguration(ClaimReplicationOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.IsValid(), "Redis:ClaimReplicas must be 'auto' or a number from 0 to 16.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ClaimReplication>();
        return services;
    }
}
