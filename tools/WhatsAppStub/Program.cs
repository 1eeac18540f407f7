using System.Runtime.InteropServices;

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

        var server = WhatsAppStubServer.Start(new WhatsAppStubOptions
        {
            Port = settings.Port,
            MappingsFolder = settings.MappingsFolder,
            Faults = settings.Faults,
            BindAllInterfaces = true,
        });
        var baseUrl = $"http://localhost:{settings.Port}";
        Console.WriteLine($"WhatsApp stub listening on {baseUrl} (faults {(settings.Faults ? "on" : "off")})");
        foreach (var file in WhatsAppStubServer.MappingFiles(settings.MappingsFolder, settings.Faults))
        {
            var answer = WhatsAppStubServer.AnsweredByCode(file) ? "  (body from code: Data.answer = code)" : "";
            Console.WriteLine($"  mapping {Path.GetRelativePath(settings.MappingsFolder, file)}{answer}");
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
