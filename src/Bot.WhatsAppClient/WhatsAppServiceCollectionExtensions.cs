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

        // The same connection settings and handlers for Refit's client and the plain one the hot send posts with.
        Graph(services.AddRefitGeneratedClient<IWhatsAppApi>(settings));
        Graph(services.AddHttpClient(WhatsAppSender.MessagesClient));

        services.TryAddSingleton<IWhatsAppSender, WhatsAppSender>();
        return services;
    }

    private static void Graph(IHttpClientBuilder builder) => builder
        .ConfigureHttpClient((provider, client) =>
        {
            var options = provider.GetRequiredService<IOptions<WhatsAppOptions>>().Value;
            client.BaseAddress = new Uri(options.BaseUrl);
            // AnswerTimeoutHandler bounds every request (its write, then WhatsApp:Timeout from the write for the answer);
            // this is only the client's outermost belt, just beyond the handler's longest.
            client.Timeout = options.Timeout * (AnswerTimeoutHandler.BeforeTheWrite + 1);
        })
        // The singleton sender keeps its HttpClient for the life of the process, so recycle
        // pooled connections instead of handlers to still follow DNS changes.
        .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = provider.GetRequiredService<IOptions<WhatsAppOptions>>().Value.Timeout,
            // Graph answers; it does not redirect. A redirected send would be a second request the policy never saw.
            AllowAutoRedirect = false,
        })
        // The factory's per-request log lines and scope (the URL formatted for every send) cost more than the send's own
        // work in a fan-out; WhatsAppSender logs each send (Debug) and the dispatcher what matters, masked.
        .RemoveAllLoggers()
        .AddHttpMessageHandler<BearerTokenHandler>()
        // Innermost, so its timer starts when the request is on the wire.
        .AddHttpMessageHandler<AnswerTimeoutHandler>();
}

