using Xunit.Abstractions;

namespace Bot.FaultTests;

/// <summary>
/// The hosts as deployed — started from their build output, so the shipped appsettings.json decides what they log, in
/// Production — send an announcement to a thousand employees and apply the statuses WhatsApp posts back: no line per
/// message, and no whole phone number in any line.
/// </summary>
public sealed class QuietLogTests(ITestOutputHelper output)
{
    private const int Employees = 1000;

    // One line per 20 deliveries at most, start-up and shutdown included: what is left for per-announcement lines.
    private const double MaxLinesPerDelivery = 0.05;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task AThousandEmployeeAnnouncementWritesAtMostOneLinePerTwentyDeliveriesAndNoPhoneNumber()
    {
        var webhookPort = Ports.Free();
        // World mode: after each accepted send the stub posts signed sent, delivered and read statuses to the webhook host.
        await using var world = await FaultWorld.StartAsync(new WhatsAppStub(o => o with
        {
            Senders = new Dictionary<string, string> { [WhatsAppStub.PhoneNumberId] = WhatsAppStub.AccessToken },
            WebhookUrl = new Uri($"http://127.0.0.1:{webhookPort}/webhook"),
            AppSecret = WebhookProcess.AppSecret,
        }));
        var phones = await world.SeedEmployeesAsync(Employees);
        // Nobody has written to the bot, so everyone is outside the 24-hour window and gets the fallback template.
        var settings = WebhookProcess.Settings(world, new Dictionary<string, string>
        {
            ["Employers:acme:FallbackTemplate:Name"] = "announcement",
            ["Employers:acme:FallbackTemplate:Language"] = "en",
        });
        await using var webhook = HostProcess.StartWebhook(webhookPort, settings, shipped: true);
        await WebhookProcess.WaitUntilLiveAsync(webhook);
        await using var dispatcher = HostProcess.StartScheduler(settings, shipped: true);

        var id = await world.AnnounceAsync("Our end of year party is on Saturday evening!");
        await world.WaitForCompletedAsync(id, Timeout);
        await Eventually.WaitAsync(() => world.ReadAsync(id), a => a.Counts.Read == Employees, Timeout, "every read status applied");
        await world.AssertExactlyOnceAsync(id, Employees);
        webhook.Terminate();
        dispatcher.Terminate();
        await Task.WhenAll(webhook.WaitForExitAsync(Timeout), dispatcher.WaitForExitAsync(Timeout));

        var lines = webhook.Output.Select(l => $"webhook    | {l}").Concat(dispatcher.Output.Select(l => $"dispatcher | {l}")).ToList();
        output.WriteLine($"{lines.Count} lines for {Employees} deliveries and {3 * Employees} statuses " +
            $"(webhook {webhook.Output.Count}, dispatcher {dispatcher.Output.Count}):");
        foreach (var line in lines) output.WriteLine(line);
        Assert.InRange(lines.Count, 1, (int)(MaxLinesPerDelivery * Employees));
        // A number as the API stores it, or as WhatsApp's wa_id (digits only).
        var leaks = lines.Where(l => phones.Any(p => l.Contains(p[1..], StringComparison.Ordinal))).ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} lines hold a phone number:\n{string.Join("\n", leaks.Take(20))}");
    }
}
