using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Events;
using Bot.Core.Media;
using Bot.Core.Messaging;
using Bot.Core.Templates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Bot.Core;

public static class CoreServiceCollectionExtensions
{
    /// <summary>The Redis-backed stores; needs an <see cref="StackExchange.Redis.IConnectionMultiplexer"/>.</summary>
    public static IServiceCollection AddAnnouncementStores(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddAnnouncementOptions();
        services.TryAddSingleton<EmployeeStore>();
        services.TryAddSingleton<WhatsAppUserIds>();
        services.TryAddSingleton<PhoneChanges>();
        services.TryAddSingleton<AnnouncementQueues>();
        services.TryAddSingleton<AnnouncementStore>();
        services.TryAddSingleton<SeriesStore>();
        services.TryAddSingleton<AnnouncementRetry>();
        services.TryAddSingleton<Redis.IdempotencyStore>();
        services.TryAddSingleton<DeliveryStore>();
        services.TryAddSingleton<JoinCodeStore>();
        services.TryAddSingleton<MessagingLimit>();
        services.TryAddSingleton<AcknowledgementStore>();
        services.TryAddSingleton<TemplateCatalog>();
        services.TryAddSingleton<TemplateAvailability>();
        services.TryAddSingleton<MediaStore>();
        services.TryAddSingleton<EndpointStore>();
        services.TryAddSingleton<EventQueue>();
        return services;
    }
}
