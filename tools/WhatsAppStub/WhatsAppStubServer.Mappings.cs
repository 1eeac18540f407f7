using WireMock.ResponseBuilders;

namespace Bot.Tools.WhatsAppStub;

/// <summary>The mapping loader: the JSON files a tester edits, and the code answer a mapping can ask for.</summary>
public sealed partial class WhatsAppStubServer
{
    /// <summary>The JSON files loaded: <c>mappings/*.json</c>, then <c>mappings/faults/*.json</c> when faults are on.</summary>
    public static IReadOnlyList<string> MappingFiles(string mappingsFolder, bool faults)
    {
        var files = Directory.GetFiles(mappingsFolder, "*.json").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidOperationException($"no *.json mappings in {mappingsFolder}");
        var faultsFolder = Path.Combine(mappingsFolder, "faults");
        if (faults && Directory.Exists(faultsFolder))
        {
            files.AddRange(Directory.GetFiles(faultsFolder, "*.json").Order(StringComparer.Ordinal));
        }

        return files;
    }

    /// <summary>True when the mapping file hands its body to code (<c>"Data": { "answer": "code" }</c>).</summary>
    public static bool AnsweredByCode(string mappingFile) => CodeAnswer.TryRead(mappingFile) is not null;

    private void Load(string file)
    {
        if (!Server.ReadStaticMappingAndAddOrUpdate(file)) throw new InvalidOperationException($"could not read WireMock mapping {file}");
        if (CodeAnswer.TryRead(file) is not { } answer) return;

        // Same Guid: replaces the mapping just read, keeping its request matcher (path, method, headers, body) as loaded.
        var loaded = Server.Mappings.Single(m => m.Guid == answer.Guid);
        var mapping = Server.Given(loaded.RequestMatcher).WithGuid(loaded.Guid).AtPriority(loaded.Priority);
        if (loaded.Title is { } title) mapping = mapping.WithTitle(title);
        if (loaded.Probability is { } probability) mapping = mapping.WithProbability(probability);
        var response = Response.Create().WithCallback(request => TemplateRefusal(request) ?? AcceptedSend.Answer(request, answer, waIds, world));
        if (answer.Delay > TimeSpan.Zero) response.WithDelay(answer.Delay);
        mapping.RespondWith(response);
    }
}
