using Bot.WhatsAppClient;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.WhatsApp;

/// <summary>Builds the WhatsApp client the way a host does, from in-memory configuration.</summary>
internal static class WhatsAppTestHost
{
    public const string PhoneNumberId = "106540352242922";
    public const string AccessToken = "EAAG-test-token-do-not-log";
    public const string MessagesPath = "/v23.0/" + PhoneNumberId + "/messages";

    public static ServiceProvider Build(string baseUrl, IDictionary<string, string?>? overrides = null, ListLoggerProvider? logs = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["WhatsApp:BaseUrl"] = baseUrl,
            ["WhatsApp:PhoneNumberId"] = PhoneNumberId,
            ["WhatsApp:AccessToken"] = AccessToken,
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            values[key] = value;

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return new ServiceCollection()
            .AddLogging(builder =>
            {
                builder.SetMinimumLevel(LogLevel.Debug);
                if (logs is not null)
                    builder.AddProvider(logs);
            })
            .AddSingleton<IConfiguration>(configuration)
            .AddWhatsAppClient()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }
}

/// <summary>Collects formatted log lines so tests can check what would reach the logs.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void Dispose() { }

    private sealed class ListLogger(ListLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (provider._lines)
                provider._lines.Add($"{logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}
