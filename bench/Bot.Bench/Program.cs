using Bot.Bench;
using Bot.Bench.Infrastructure;
using Bot.Bench.Scenarios;

// bench/Bot.Bench: the dispatcher, Redis, the webhook and the WhatsApp stub under load, against a real redis-server.
// `--quick` is CI's smoke test: small sizes, exits non-zero unless everyone got exactly one message.
if (args is ["--role", "dispatcher", .. var settings]) return await DispatcherRole.RunAsync(settings);

var options = BenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: Bot.Bench [--quick] [--only 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15] [--no-aof] [--peer bullmq] [--rounds 2 (peer, 14, 15)] [--out artifacts/bench/results.json]");
    return 2;
}

await using var world = await BenchWorld.StartAsync(options);
if (options.Runs(1) || options.Runs(4) || options.Runs(5) || options.Runs(6) || options.Runs(7))
{
    // 4, 5 and 7 are measured during 1; 6 updates the deliveries 1 sent.
    FanOutRun.Run? fannedOut = null;
    await world.ScenarioAsync("1", "Fan-out, 1 dispatcher, no rate cap", async r => fannedOut = await FanOut.RunAsync(world, r, dispatchers: 1));
    if (options.Runs(6)) await world.ScenarioAsync("6", "Webhook ingest", r => WebhookIngest.RunAsync(world, r, fannedOut));
    if (options.Runs(1)) await world.ScenarioAsync("1b", "Fan-out, 3 dispatchers, no rate cap", r => FanOut.RunAsync(world, r, dispatchers: 3));
}
if (options.Runs(2)) await world.ScenarioAsync("2", "Rate-capped fan-out", r => RateCapped.RunAsync(world, r));
if (options.Runs(3)) await world.ScenarioAsync("3", "Scheduling latency", r => SchedulingLatency.RunAsync(world, r));
if (options.WithAof && options.Runs(1))
    await world.ScenarioAsync("1c", "Fan-out, 1 dispatcher, AOF appendfsync always (the shipped durability)", r => FanOut.WithAofAsync(world, r));
if (options.Runs(8)) await world.ScenarioAsync("8", "The WhatsApp stub alone (tools/WhatsAppStub)", r => StubThroughput.RunAsync(options, r));
if (options.Runs(9)) await world.ScenarioAsync("9", "deliveries.csv export of 100,000 deliveries, webhook memory", r => DeliveryExport.RunAsync(world, r));
if (options.Runs(10)) await world.ScenarioAsync("10", "Fair dispatch: small 'send now' announcements beside five big fan-outs at the cap", r => FairDispatch.RunAsync(world, r));
if (options.Runs(11))
    await world.ScenarioAsync("11", "Scale-out: 8 senders, 1/2/4 dispatcher replicas, one Redis and a 3-master cluster", r => SenderSpread.RunAsync(world, r));
if (options.Runs(12)) await world.ScenarioAsync("12", "Per-delivery cost: Redis bytes while dispatching and at rest, write commands per delivery", r => DeliveryCost.RunAsync(world, r));
if (options.Runs(13))
    await world.ScenarioAsync("13", "Fan-out on a primary with one replica: Redis:ClaimReplicas=0 and auto (WAIT before each send)", r => ClaimReplicas.RunAsync(world, r));
if (options.Runs(14))
    await world.ScenarioAsync("14", "Events out: fan-out without an endpoint, with one answering 200, and with its worker stopped until completion; events/s delivered", r => EventsCost.RunAsync(world, r));
if (options.Runs(15))
    await world.ScenarioAsync("15", "End to end against BullMQ: the built hosts, a number per employer at 1,000/s, AOF always; BullMQ keeping and removing completed jobs", r => EndToEnd.RunAsync(world, r));
if (options.Peer is "bullmq")
    await world.ScenarioAsync("peer", "Side by side with BullMQ: the same fan-out, alternately, AOF always and no AOF", r => PeerComparison.RunAsync(world, r));
return await world.ReportAsync();
