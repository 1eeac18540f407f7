using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Refit;

namespace Bot.WhatsAppClient;

/// <summary>Registers the WhatsApp Cloud API client.</summary>
public static class WhatsAppServiceCollectionExtensions
{
    /// <summary>
    /// Binds and validates <see cref="WhatsAppOptions"/> from the <c>WhatsApp</c> section (failing at start-up),
    /// binds the senders, portfolios and employers' senders into a <see cref="SenderDirectory"/>, and registers
    /// <see cref="IWhatsAppApi"/> and a singleton <see cref="IWhatsAppSender"/>. Resolve <see cref="SenderDirectory"/>
    /// at start-up (the hosts do) so a wrong sender setting stops the host with its key named.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddWhatsAppClient(this IServiceCollection services)
    {
        services.AddOptions<WhatsAppOptions>()
            .BindConfiguration(WhatsAppOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddOptions<MessagingOptions>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, MessagingOptionsValidation>());
        services.TryAddSingleton<SenderDirectory>();
        services.TryAddTransient<BearerTokenHandler>();
        services.TryAddTransient<AnswerTimeoutHandler>();

        var settings = new RefitSettings(new SystemTextJsonContentSerializer(WhatsAppJson.Options))
        {
            // Send a Content-Length body rather than a chunked one.
            Buffered = true,
            // Graph error bodies are small; do not let a misbehaving proxy make us buffer megabytes.
            MaxExceptionContentLength = 16 * 1024,
        };

        services.AddRefitGeneratedClient<IWhatsAppApi>(settings)
            .ConfigureHttpClient((provider, client) =>
            {
                var options = provider.GetRequiredService<IOptions<WhatsAppOptions>>().Value;
                client.BaseAddress = new Uri(options.BaseUrl);
                // WhatsApp:Timeout runs from the request's write (AnswerTimeoutHandler); this only bounds a request that
                // hangs before it (a body that never finishes, a pool that never frees).
                client.Timeout = options.Timeout * 30;
            })
            // The singleton sender keeps its HttpClient for the life of the process, so recycle
            // pooled connections instead of handlers to still follow DNS changes.
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = provider.GetRequiredService<IOptions<WhatsAppOptions>>().Value.Timeout,
            })
            .AddHttpMessageHandler<BearerTokenHandler>()
            // Innermost, so its timer starts when the request is on the wire.
            .AddHttpMessageHandler<AnswerTimeoutHandler>();

        services.TryAddSingleton<IWhatsAppSender, WhatsAppSender>();
        return services;
    }
}
