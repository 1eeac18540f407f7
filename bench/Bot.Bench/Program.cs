using Bot.Bench;
using Bot.Bench.Infrastructure;

// bench/Bot.Bench: the dispatcher, Redis and the webhook under load, against a real redis-server and a local
// WhatsApp stand-in. `--quick` is CI's smoke test: small sizes, exits non-zero unless everyone got exactly one message.
if (args is ["--role", "dispatcher", .. var settings]) return await DispatcherRole.RunAsync(settings);

var options = BenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: Bot.Bench [--quick] [--only 1,2,3,4,5,6,7] [--no-aof] [--out artifacts/bench/results.json]");
    return 2;
}
return await new BenchRun(options).RunAsync();
