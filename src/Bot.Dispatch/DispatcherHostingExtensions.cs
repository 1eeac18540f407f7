using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Replication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

public static class DispatcherHostingExtensions
{
    /// <summary>
    /// Adds the dispatcher to a host. Needs <c>AddRedis()</c> and <c>AddWhatsAppClient()</c> on the same host.
    /// </summary>
    public static IHostApplicationBuilder AddDispatcher(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DispatcherOptions>()
            .BindConfiguration(DispatcherOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.MaxDispatchAge < o.DeliveryRetention,
                "Dispatcher:MaxDispatchAge must be shorter than Dispatcher:DeliveryRetention: delivery records must outlive every pass over their announcement.")
            .ValidateOnStart();
        builder.Services.AddAnnouncementStores();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<DispatcherMetrics>();
        builder.Services.AddSingleton<SendRateLimiter>();
        builder.Services.TryAddSingleton<ISendRateLimiter>(services => services.GetRequiredService<SendRateLimiter>());
        builder.Services.AddSingleton<DispatchPause>();
        builder.Services.AddSingleton<DispatcherLock>();
        builder.Services.AddEmployerTimings();
        builder.Services.AddSingleton<SendTiming>();
        builder.Services.AddSingleton<DispatcherReplicas>();
        builder.Services.AddSingleton<MessagingLimitGate>();
        builder.Services.AddSingleton<SendAttempts>();
        builder.Services.AddClaimReplication();
        builder.Services.AddSingleton<ClaimConfirmation>();
        builder.Services.AddSingleton(services => new DeliveryWrites(
            services.GetRequiredService<DeliveryStore>(), services.GetRequiredService<IOptions<DispatcherOptions>>().Value.DeliveryRetention));
        builder.Services.AddSingleton<DeliveryClaimer>();
        builder.Services.AddSingleton<DeliveryPipeline>();
        builder.Services.AddSingleton<PassContentReader>();
        builder.Services.AddSingleton<PassRunner>();
        builder.Services.AddSingleton<AnnouncementCompletion>();
        builder.Services.AddSingleton<AnnouncementExpiry>();
        builder.Services.AddSingleton<AnnouncementPass>();
        builder.Services.AddSingleton<ReminderPass>();
        builder.Services.AddSingleton<ResendPass>();
        builder.Services.AddSingleton<FanOut>();
        builder.Services.AddHostedService<Dispatcher>();
        builder.AddCreationRepair();
        builder.AddSeriesScheduler();
        return builder;
    }
}
