namespace Bot.Testing;

/// <summary>Files of the repository the tests were built from (compose, Dockerfiles, the portal's sources).</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => System.IO.Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Announcements.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"Announcements.sln not found above {AppContext.BaseDirectory}");
    }
}
