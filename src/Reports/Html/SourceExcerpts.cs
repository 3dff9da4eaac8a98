namespace Checker.Reports.Html;

/// <summary>Source lines around one line of a file: the first line's number, the lines, and which one is meant.</summary>
internal sealed record SourceExcerpt(string File, int FirstLine, IReadOnlyList<string> Lines, int Line);

/// <summary>
/// Reads the lines around a frame's line from the source file DWARF names, each file once per
/// report. A file that is not there, not readable, not an absolute path, empty or not a regular
/// file (a FIFO or a device stats as size 0), or too big, gives no excerpt: the page leaves the
/// source out rather than fail or block. The lines are the file's as it is now (the program may
/// have been built from another version).
/// </summary>
internal sealed class SourceExcerpts
{
    /// <summary>Lines shown on each side of the frame's line.</summary>
    public const int Context = 3;

    // A source file bigger than this is not a source file worth reading for 7 lines.
    private const long MaxFileBytes = 8 << 20;
    // All the files one report reads, together: a report naming thousands of files stays quick.
    private const long MaxTotalBytes = 128 << 20;

    private readonly Dictionary<string, string[]?> _files = new(StringComparer.Ordinal);
    private long _bytesRead;

    /// <summary>The lines around <paramref name="line"/> of <paramref name="file"/>, or null when they cannot be read.</summary>
    public SourceExcerpt? Around(string file, int line)
    {
        if (line < 1 || Lines(file) is not string[] lines || line > lines.Length) return null;
        int first = Math.Max(1, line - Context);
        int last = Math.Min(lines.Length, line + Context);
        return new SourceExcerpt(file, first, lines[(first - 1)..last], line);
    }

    private string[]? Lines(string file)
    {
        if (_files.TryGetValue(file, out string[]? cached)) return cached;
        string[]? lines = null;
        try
        {
            var info = new FileInfo(file);
            if (Path.IsPathFullyQualified(file) && info.Exists && info.Length > 0 && info.Length <= MaxFileBytes
                && _bytesRead + info.Length <= MaxTotalBytes)
            {
                _bytesRead += info.Length;
                lines = File.ReadAllLines(file); // UTF-8; invalid bytes become U+FFFD
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            lines = null;
        }
        _files[file] = lines;
        return lines;
    }
}
