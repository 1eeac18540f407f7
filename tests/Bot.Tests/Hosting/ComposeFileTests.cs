using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.Tools.WhatsAppStub;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;
using YamlDotNet.RepresentationModel;

namespace Bot.Tests.Hosting;

/// <summary>
/// There is no Docker engine on the build machine, so docker-compose.yml (with its Redis Cluster variant,
/// docker-compose.cluster.yml) and the Dockerfiles are checked by reading them: the services, ports and probes are
/// there, and every environment key is a setting the hosts really bind.
/// </summary>
public sealed partial class ComposeFileTests
{
    private static readonly string Root = Repo.Root;
    private static readonly YamlMappingNode Compose = LoadCompose("docker-compose.yml");
    private static readonly YamlMappingNode Services = (YamlMappingNode)Compose["services"];
    private static readonly YamlMappingNode ClusterCompose = LoadCompose("docker-compose.cluster.yml");
    private static readonly YamlMappingNode ClusterServices = (YamlMappingNode)ClusterCompose["services"];
    private static readonly string[] ClusterNodes = ["redis-node-1", "redis-node-2", "redis-node-3"];

    [Fact]
    public void DefinesRedisStubWebhookAndDispatcher()
    {
        Assert.Equal(["dispatcher", "redis", "webhook", "whatsapp-stub"], Services.Children.Keys.Select(k => k.ToString()).Order());
    }

    [Fact]
    public void RedisIsVersion7WithAppendOnlyFsyncAlwaysOnANamedVolume()
    {
        var redis = Service("redis");
        Assert.Matches(@"^redis:7(\.|-|$)", Scalar(redis, "image"));
        var command = string.Join(' ', Sequence(redis, "command"));
        Assert.Contains("--appendonly yes", command);
        Assert.Contains("--appendfsync always", command);

        var volume = Assert.Single(Sequence(redis, "volumes"));
        var (name, target) = (volume.Split(':')[0], volume.Split(':')[1]);
        Assert.Equal("/data", target);
        Assert.True(((YamlMappingNode)Compose["volumes"]).Children.ContainsKey(name), $"volume {name} is not declared under volumes:");
        Assert.Contains("redis-cli", string.Join(' ', HealthcheckTest("redis")));
    }

    [Fact]
    public void WebhookAndStubPublishTheirPorts()
    {
        Assert.Contains("8080:8080", Sequence(Service("webhook"), "ports"));
        Assert.Contains("9091:9091", Sequence(Service("whatsapp-stub"), "ports"));
    }

    [Fact]
    public void DispatcherRunsTwoReplicas()
    {
        Assert.Equal("2", Scalar((YamlMappingNode)Service("dispatcher")["deploy"], "replicas"));
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("whatsapp-stub")]
    [InlineData("webhook")]
    [InlineData("dispatcher")]
    public void EveryServiceHasAHealthcheck(string service)
    {
        Assert.NotEmpty(HealthcheckTest(service));
    }

    [Theory]
    [InlineData("webhook")]
    [InlineData("dispatcher")]
    public void HostsWaitForHealthyRedisAndStub(string service)
    {
        var dependsOn = (YamlMappingNode)Service(service)["depends_on"];
        foreach (var dependency in new[] { "redis", "whatsapp-stub" })
        {
            Assert.Equal("service_healthy", Scalar((YamlMappingNode)dependsOn[dependency], "condition"));
        }
    }

    [Fact]
    public void HealthchecksProbeTheReadinessEndpoints()
    {
        Assert.Contains("http://localhost:8080/health/ready", HealthcheckTest("webhook"));
        var dispatcherPort = Environment("dispatcher")["Dispatcher:HealthPort"];
        Assert.Contains($"http://localhost:{dispatcherPort}/health/ready", HealthcheckTest("dispatcher"));
        Assert.Contains($"http://localhost:{StubPort()}/__admin/health", HealthcheckTest("whatsapp-stub"));
    }

    [Theory]
    [InlineData("webhook")]
    [InlineData("dispatcher")]
    public void EveryEnvironmentKeyIsASettingTheHostsBind(string service)
    {
        foreach (var key in Environment(service).Keys)
        {
            Assert.True(IsBoundSetting(key), $"{service}: {key.Replace(":", "__")} is not a setting Bot.Webhook/Bot.Scheduler read");
        }
    }

    [Theory]
    [InlineData("webhook")]
    [InlineData("dispatcher")]
    public void EnvironmentPassesTheHostsOptionsValidation(string service)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Environment(service)).Build();

        var whatsApp = Bind<WhatsAppOptions>(configuration, WhatsAppOptions.SectionName);
        var dispatcher = Bind<DispatcherOptions>(configuration, DispatcherOptions.SectionName);

        Assert.NotEmpty(whatsApp.PhoneNumberId);
        Assert.NotEmpty(whatsApp.AccessToken);
        // Points at the services in this file, by their compose names and ports.
        Assert.Equal($"http://whatsapp-stub:{StubPort()}", whatsApp.BaseUrl);
        Assert.Equal("redis:6379", configuration.GetConnectionString(RedisHostingExtensions.ConnectionStringName));
        if (service == "webhook")
        {
            Assert.False(dispatcher.Enabled, "the webhook host must not dispatch: the dispatcher service does");
            Assert.NotEmpty(whatsApp.AppSecret);
            Assert.NotEmpty(whatsApp.VerifyToken);
            Assert.NotEmpty(configuration["Employers:demo:ApiKey"]!);
        }
        else
        {
            Assert.True(dispatcher.Enabled);
            Assert.InRange(dispatcher.HealthPort, 1, 65535);
        }
    }

    [Fact]
    public void TheStubsWorldModeKnowsTheHostsSenderAndSignsWithTheWebhooksAppSecret()
    {
        var stub = ((YamlMappingNode)Service("whatsapp-stub")["environment"]).Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString());
        var options = StubSettings.Parse(Sequence(Service("whatsapp-stub"), "command").ToArray(), stub.GetValueOrDefault, out var error)?.Options;
        var webhook = Environment("webhook");

        Assert.Null(error);
        Assert.Equal(webhook["WhatsApp:AppSecret"], options!.AppSecret);
        Assert.Equal(new Uri("http://webhook:8080/webhook"), options.WebhookUrl);
        foreach (var service in new[] { "webhook", "dispatcher" })
        {
            var sender = Environment(service);
            Assert.Equal(sender["WhatsApp:AccessToken"], options.Senders[sender["WhatsApp:PhoneNumberId"]!]);
        }
    }

    [Theory]
    [InlineData("webhook", "src/Bot.Webhook/Bot.Webhook.csproj")]
    [InlineData("dispatcher", "src/Bot.Scheduler/Bot.Scheduler.csproj")]
    [InlineData("whatsapp-stub", "tools/WhatsAppStub/WhatsAppStub.csproj")]
    public void DockerfileCopiesEveryProjectItRestoresBeforeRestoring(string service, string project)
    {
        var build = (YamlMappingNode)Service(service)["build"];
        Assert.Equal(".", Scalar(build, "context"));
        var dockerfile = File.ReadAllText(Path.Combine(Root, Scalar(build, "dockerfile")));
        var beforeRestore = dockerfile[..dockerfile.IndexOf("RUN dotnet restore", StringComparison.Ordinal)];
        Assert.Contains("AS build", dockerfile);
        Assert.Contains("AS final", dockerfile);

        foreach (var csproj in ProjectClosure(project))
        {
            Assert.Contains($"COPY {csproj} ", beforeRestore);
        }
    }

    [Fact]
    public void ClusterFileRunsThreeDurableMastersEachOnAVolumeOfItsOwn()
    {
        var volumes = new List<string>();
        foreach (var name in ClusterNodes)
        {
            var node = (YamlMappingNode)ClusterServices[name];
            Assert.Matches(@"^redis:7(\.|-|$)", Scalar(Merged(node, "image")));
            var command = string.Join(' ', Sequence(Merged(node, "command")));
            Assert.Contains("--cluster-enabled yes", command);
            Assert.Contains("--appendonly yes", command);
            Assert.Contains("--appendfsync always", command);
            Assert.Contains("redis-cli", string.Join(' ', Sequence((YamlMappingNode)Merged(node, "healthcheck"), "test")));
            var (volume, target) = (Sequence(node, "volumes").Single().Split(':')[0], Sequence(node, "volumes").Single().Split(':')[1]);
            Assert.Equal("/data", target);
            Assert.True(((YamlMappingNode)ClusterCompose["volumes"]).Children.ContainsKey(volume), $"volume {volume} is not declared under volumes:");
            volumes.Add(volume);
        }
        Assert.Equal(ClusterNodes.Length, volumes.Distinct().Count());
    }

    [Fact]
    public void ClusterInitJoinsTheThreeNodesOnceTheyAreHealthy()
    {
        var init = (YamlMappingNode)ClusterServices["redis-cluster-init"];
        var script = string.Join('\n', Sequence(init, "command"));
        Assert.Contains("--cluster create", script);
        Assert.Contains("--cluster-replicas 0", script);
        Assert.Contains("--cluster-yes", script);
        var dependsOn = (YamlMappingNode)init["depends_on"];
        foreach (var node in ClusterNodes)
        {
            Assert.Contains($"getent hosts {node} ", script);
            Assert.Equal("service_healthy", Scalar((YamlMappingNode)dependsOn[node], "condition"));
        }
    }

    [Theory]
    [InlineData("webhook")]
    [InlineData("dispatcher")]
    public void OnTheClusterHostsListEveryMasterAsASeedAndWaitForTheCluster(string service)
    {
        var host = (YamlMappingNode)ClusterServices[service];
        var environment = ((YamlMappingNode)host["environment"]).Children.ToDictionary(kv => kv.Key.ToString().Replace("__", ":"), kv => kv.Value.ToString());
        Assert.All(environment.Keys, key => Assert.True(IsBoundSetting(key), $"{service}: {key} is not a setting the hosts read"));
        var seeds = ConfigurationOptions.Parse(environment[$"ConnectionStrings:{RedisHostingExtensions.ConnectionStringName}"]).EndPoints;
        Assert.Equal(ClusterNodes.Select(n => $"Unspecified/{n}:6379"), seeds.Select(e => e.ToString()));

        var dependsOn = (YamlMappingNode)host["depends_on"];
        // !override: the base file's dependency on the single Redis goes, and that Redis is not started at all.
        Assert.Equal("!override", dependsOn.Tag.Value);
        Assert.Equal(["redis-cluster-init", "whatsapp-stub"], dependsOn.Children.Keys.Select(k => k.ToString()).Order());
        Assert.Equal("service_completed_successfully", Scalar((YamlMappingNode)dependsOn["redis-cluster-init"], "condition"));
        Assert.Equal(["single-redis"], Sequence((YamlMappingNode)ClusterServices["redis"], "profiles"));
    }

    /// <summary>A service's key, from the service or from the mapping it merges in (<c>&lt;&lt;: *anchor</c>).</summary>
    private static YamlNode Merged(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) ? value : ((YamlMappingNode)node["<<"])[key];

    private static string Scalar(YamlNode node) => ((YamlScalarNode)node).Value!;

    private static List<string> Sequence(YamlNode node) => [.. ((YamlSequenceNode)node).Children.Select(c => ((YamlScalarNode)c).Value!)];

    private static bool IsBoundSetting(string key)
    {
        var parts = key.Split(':');
        return parts switch
        {
            ["ConnectionStrings", RedisHostingExtensions.ConnectionStringName] => true,
            [WhatsAppOptions.SectionName, var property] => HasProperty<WhatsAppOptions>(property),
            [DispatcherOptions.SectionName, var property] => HasProperty<DispatcherOptions>(property),
            ["Employers", var employer, "ApiKey"] => EmployerId().IsMatch(employer),
            _ => false,
        };
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex EmployerId();

    private static bool HasProperty<T>(string name) =>
        typeof(T).GetProperty(name, BindingFlags.Public | BindingFlags.Instance) is { CanWrite: true };

    private static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        var options = new T();
        configuration.GetSection(section).Bind(options);
        var results = new List<ValidationResult>();
        Assert.True(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true),
            $"{section}: {string.Join("; ", results.Select(r => r.ErrorMessage))}");
        return options;
    }

    /// <summary>The service's environment as configuration keys (<c>WhatsApp__BaseUrl</c> → <c>WhatsApp:BaseUrl</c>).</summary>
    private static Dictionary<string, string?> Environment(string service) =>
        ((YamlMappingNode)Service(service)["environment"]).Children
            .ToDictionary(kv => kv.Key.ToString().Replace("__", ":"), kv => (string?)kv.Value.ToString());

    private static string StubPort()
    {
        var command = Sequence(Service("whatsapp-stub"), "command");
        return command[command.IndexOf("--port") + 1];
    }

    private static List<string> HealthcheckTest(string service) =>
        Sequence((YamlMappingNode)Service(service)["healthcheck"], "test");

    private static YamlMappingNode Service(string name) => (YamlMappingNode)Services[name];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value!;

    private static List<string> Sequence(YamlMappingNode node, string key) =>
        [.. ((YamlSequenceNode)node[key]).Children.Select(c => ((YamlScalarNode)c).Value!)];

    /// <summary>The project and every project it references, transitively, as repo-relative paths.</summary>
    private static SortedSet<string> ProjectClosure(string project)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current)) continue;
            var directory = Path.GetDirectoryName(Path.Combine(Root, current))!;
            foreach (var reference in XDocument.Load(Path.Combine(Root, current)).Descendants("ProjectReference"))
            {
                var full = Path.GetFullPath(Path.Combine(directory, reference.Attribute("Include")!.Value.Replace('\\', '/')));
                pending.Push(Path.GetRelativePath(Root, full).Replace('\\', '/'));
            }
        }

        return seen;
    }

    private static YamlMappingNode LoadCompose(string file)
    {
        using var reader = new StreamReader(Path.Combine(Root, file));
        var yaml = new YamlStream();
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }
}
