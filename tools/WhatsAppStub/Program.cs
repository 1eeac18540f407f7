using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Bot.Tools.WhatsAppStub;

// A named entry point rather than top-level statements: the test project references this tool and
// Bot.Webhook, and both would otherwise contribute a global `Program` type.
internal static class StubProgram
{
    public static async Task<int> Main(string[] args)
    {
        var settings = StubSettings.Parse(args, out var error);
        if (settings is null)
        {
            Console.Error.WriteLine($"WhatsAppStub: {error}");
            Console.Error.WriteLine(StubSettings.Usage);
            return 2;
        }

        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true));
        var options = settings.Options with { Loggers = loggers };
        var server = WhatsAppStubServer.Start(options);
        var baseUrl = $"http://localhost:{options.Port}";
        Console.WriteLine($"WhatsApp stub listening on {baseUrl} (faults {(options.Faults ? "on" : "off")})");
        foreach (var file in WhatsAppStubServer.MappingFiles(options.MappingsFolder, options.Faults))
        {
            var answer = WhatsAppStubServer.AnsweredByCode(file) ? "  (body from code: Data.answer = code)" : "";
            Console.WriteLine($"  mapping {Path.GetRelativePath(options.MappingsFolder, file)}{answer}");
        }

        // Phone number ids are not secret; tokens and the app secret are never printed.
        Console.WriteLine(options.Senders.Count == 0
            ? "  senders:  any phone number id, any token"
            : $"  senders:  {string.Join(", ", options.Senders.Keys.Order(StringComparer.Ordinal))} (each with its own token; others 401/400)");
        if (options.WebhookUrl is { } webhook)
        {
            string Delay(TimeSpan? d) => d is { } v ? $"{v.TotalSeconds:0.###} s" : "off";
            Console.WriteLine($"  world:    statuses and inbound messages POSTed to {webhook}, signed; sent {Delay(options.SentAfter)}, " +
                              $"delivered {Delay(options.DeliveredAfter)}, read {Delay(options.ReadAfter)} after the 200");
            Console.WriteLine($"            customer-service window {options.CustomerServiceWindow}; messaging limit " +
                              (options.MessagingLimit is > 0 and var limit ? $"{limit:N0} per {options.MessagingLimitWindow}" : "none"));
            Console.WriteLine($"  inbound:  POST {baseUrl}{WhatsAppStubServer.InboundPath}  {{\"phoneNumberId\",\"from\",\"text\",\"name\"?,\"waId\"?}}");
        }
        else
        {
            Console.WriteLine("  world:    off (no statuses posted; every message accepted); on with --webhook-url");
        }

        Console.WriteLine($"  sends:    POST {baseUrl}/v23.0/{{phoneNumberId}}/messages");
        Console.WriteLine($"  received: GET  {baseUrl}{WhatsAppStubServer.ReceivedPath}");
        Console.WriteLine($"  requests: GET  {baseUrl}/__admin/requests   (the last {WhatsAppStubServer.DefaultMaxRequestLogCount:N0}; reset: DELETE {baseUrl}/__admin/requests)");

        // Ctrl-C locally, SIGTERM from docker stop / run.sh: both end the process cleanly.
        var stopped = new TaskCompletionSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopped.TrySetResult();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        await stopped.Task;
        server.Dispose();
        Console.WriteLine("WhatsApp stub stopped");
        return 0;
    }
}
