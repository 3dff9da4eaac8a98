namespace Checker.Reports.Sarif;

/// <summary>
/// The lines of the source files a report names (the absolute paths DWARF gives), each file read
/// once per report; a file that cannot be read (moved, not readable) gives no lines.
/// </summary>
internal sealed class SourceLines
{
    private readonly Dictionary<string, string[]?> _files = new(StringComparer.Ordinal);

    /// <summary>Line <paramref name="line"/> (1-based) of <paramref name="file"/>, or null when unknown.</summary>
    public string? Line(string file, int line) =>
        Lines(file) is string[] lines && line >= 1 && line <= lines.Length ? lines[line - 1] : null;

    /// <summary>How many lines <paramref name="file"/> has (0 when it cannot be read).</summary>
    public int Count(string file) => Lines(file)?.Length ?? 0;

    private string[]? Lines(string file)
    {
        if (_files.TryGetValue(file, out string[]? lines)) return lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lines = null;
        }
        _files[file] = lines;
        return lines;
    }
}
