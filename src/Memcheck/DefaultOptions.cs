namespace Checker.Memcheck;

/// <summary>
/// Options given before the command line, as Valgrind reads <c>~/.valgrindrc</c>,
/// <c>VALGRIND_OPTS</c> and <c>./.valgrindrc</c>: <c>~/.memcheckrc</c>, then <c>MEMCHECK_OPTIONS</c>,
/// then <c>.memcheckrc</c> in the working directory, then the command line; a later value wins.
/// Each holds options only, separated by white space (no quoting); in a file, a line starting
/// with <c>#</c> is a comment.
/// </summary>
public static class DefaultOptions
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "MEMCHECK_OPTIONS";

    /// <summary>The file's name, in the home and the working directory.</summary>
    public const string FileName = ".memcheckrc";

    /// <summary>Each source that gives options, in order, named as an error message names it.</summary>
    public static IReadOnlyList<(string Source, string[] Words)> Read()
    {
        var sources = new List<(string, string[])>();
        string? home = Environment.GetEnvironmentVariable("HOME");
        string? homeFile = home is { Length: > 0 } ? Path.Combine(home, FileName) : null;
        if (homeFile != null) AddFile(sources, homeFile);
        if (Environment.GetEnvironmentVariable(Variable) is { } variable) Add(sources, Variable, variable);
        string localFile = Path.GetFullPath(FileName);
        if (localFile != homeFile) AddFile(sources, localFile);
        return sources;
    }

    private static void AddFile(List<(string, string[])> sources, string path)
    {
        string text;
        try
        {
            if (!File.Exists(path)) return;
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // unreadable: as if absent, as Valgrind does
        }
        Add(sources, path, string.Join('\n', text.Split('\n').Where(line => !line.TrimStart().StartsWith('#'))));
    }

    private static void Add(List<(string, string[])> sources, string source, string text)
    {
        string[] words = text.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > 0) sources.Add((source, words));
    }
}
