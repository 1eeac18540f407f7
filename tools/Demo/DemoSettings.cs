using System.Globalization;

namespace Bot.Tools.Demo;

public sealed record DemoSettings(Uri Api, string ApiKey, Uri Stub, int Employees, bool Faults, string? ReceivedFile, string? WorldSender = null)
{
    public const string Usage =
        "usage: Demo --api URL --api-key KEY --stub URL [--employees 1000] [--faults] [--received-file PATH] [--world-sender PNID]\n" +
        "  registers N employees (+16505550001…), schedules one announcement to them 5 s ahead, shows its progress,\n" +
        "  the send rate seen at the stub, and checks each got exactly 1 message (--faults: reports, does not fail)\n" +
        "  --world-sender PNID: the stub runs in world mode for that phone number id: 4 in 5 employees message the bot\n" +
        "  first (POST /stub/inbound), then the demo waits for the statuses: read for them, failed 131047 for the rest";

    public static DemoSettings? Parse(string[] args, out string? error)
    {
        error = null;
        Uri? api = null, stub = null;
        string? key = null, receivedFile = null, worldSender = null;
        var employees = 1000;
        var faults = false;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--faults":
                    faults = true;
                    continue;
                case "--api" when Uri.TryCreate(value, UriKind.Absolute, out var a):
                    api = a;
                    break;
                case "--stub" when Uri.TryCreate(value, UriKind.Absolute, out var s):
                    stub = s;
                    break;
                case "--api-key" when !string.IsNullOrEmpty(value):
                    key = value;
                    break;
                case "--received-file" when !string.IsNullOrEmpty(value):
                    receivedFile = value;
                    break;
                case "--world-sender" when !string.IsNullOrEmpty(value):
                    worldSender = value;
                    break;
                case "--employees" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 9_999:
                    employees = n;
                    break;
                default:
                    error = $"unknown or incomplete argument: {args[i]}";
                    return null;
            }

            i++;
        }

        if (api is null || stub is null || key is null)
        {
            error = "--api, --api-key and --stub are required";
            return null;
        }

        return new DemoSettings(api, key, stub, employees, faults, receivedFile, worldSender);
    }
}
