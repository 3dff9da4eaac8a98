namespace Checker.Tests.EndToEnd;

/// <summary>Locations in the repository, found from the test assembly's directory.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> _root = new(FindRoot);

    /// <summary>The directory that contains Checker.sln.</summary>
    public static string Root => _root.Value;

    /// <summary>The ./memcheck launcher at the repository root.</summary>
    public static string Launcher => Path.Combine(Root, "memcheck");

    /// <summary>tests/cases: the C and C++ sources of the end-to-end cases.</summary>
    public static string Cases => Path.Combine(Root, "tests", "cases");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Checker.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException(
            $"Cannot find the repository root (a directory containing Checker.sln) above {AppContext.BaseDirectory}");
    }
}
