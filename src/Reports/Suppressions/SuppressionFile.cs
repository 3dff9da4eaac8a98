using System.Globalization;

namespace Checker.Reports.Suppressions;

/// <summary>
/// Reads Valgrind's suppression format unchanged (its manual, "Suppressing errors" and "Writing
/// suppression files"): entries between a <c>{</c> and a <c>}</c> line, each a name line, a
/// <c>Tool1,Tool2:Kind</c> line, the kind's extra line (Param's <c>write(buf)</c>, Leak's optional
/// <c>match-leak-kinds: definite,possible</c>, FishyValue's <c>malloc(size)</c>), then location
/// lines <c>fun:</c>, <c>obj:</c>, <c>src:FILE[:LINE]</c> or <c>...</c>. Blank lines and lines
/// whose first non-blank character is <c>#</c> are skipped; lines are trimmed at both ends.
/// Entries for other tools (Helgrind:, drd:, exp-sgcheck:) are read over and left out; a
/// Memcheck kind Valgrind does not know, a missing extra line or a malformed line is an error
/// naming the file and line, as Valgrind refuses to start.
/// </summary>
public static class SuppressionFile
{
    /// <summary>Valgrind's limit on a suppression's location lines (its deepest backtrace).</summary>
    public const int MaxFrames = 500;

    // Every kind Memcheck recognises (mc_errors.c); those memcheck never reports parse and match nothing.
    private static readonly HashSet<string> Kinds =
    [
        "Param", "User", "CoreMem", "Addr1", "Addr2", "Addr4", "Addr8", "Addr16", "Addr32", "Jump", "Free", "Leak",
        "Overlap", "Mempool", "Cond", "Value0", "Value1", "Value2", "Value4", "Value8", "Value16", "Value32",
        "FishyValue", "ReallocZero", "BadAlign", "BadSize", "SizeMismatch", "AlignMismatch",
    ];

    private static readonly string[] LeakKindNames = ["definite", "indirect", "possible", "reachable"];

    /// <summary>Reads the file at <paramref name="path"/>.</summary>
    /// <exception cref="SuppressionFormatException">It does not parse.</exception>
    public static IReadOnlyList<Suppression> Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>The Memcheck suppressions of <paramref name="text"/>, in file order; <paramref name="file"/> names it in errors.</summary>
    /// <exception cref="SuppressionFormatException">It does not parse.</exception>
    public static IReadOnlyList<Suppression> Parse(string text, string file)
    {
        var lines = new Lines(text, file);
        var suppressions = new List<Suppression>();
        while (lines.Next() is string open)
        {
            if (open != "{") throw lines.Error($"expected '{{' or the end of the file, got '{open}'");
            string name = lines.Next() ?? throw lines.Error("unexpected end of the file (expected the suppression's name)");
            if (name == "}") throw lines.Error("unexpected '}' (expected the suppression's name)");
            int nameLine = lines.Number;
            string toolLine = lines.Next() ?? throw lines.Error("unexpected end of the file (expected 'Memcheck:KIND')");
            int colon = toolLine.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0) throw lines.Error($"malformed 'tool1,tool2,...:kind' line '{toolLine}'");
            if (!toolLine[..colon].Split(',').Contains("Memcheck"))
            {
                SkipEntry(lines);
                continue;
            }
            string kind = toolLine[(colon + 1)..];
            if (!Kinds.Contains(kind)) throw lines.Error($"unknown Memcheck suppression kind '{kind}'");
            suppressions.Add(ReadEntry(lines, name, kind == "Value0" ? "Cond" : kind, nameLine));
        }
        return suppressions;
    }

    /// <summary>Another tool's entry: its lines up to the closing brace.</summary>
    private static void SkipEntry(Lines lines)
    {
        while (true)
        {
            string line = lines.Next() ?? throw lines.Error("unexpected end of the file (expected '}' to close the suppression)");
            if (line == "}") return;
        }
    }

    private static Suppression ReadEntry(Lines lines, string name, string kind, int nameLine)
    {
        string? extra = null;
        IReadOnlySet<string>? leakKinds = null;
        string? line = lines.Next();
        switch (kind)
        {
            case "Param":
                if (line is null || IsLocation(line) || line == "}")
                    throw lines.Error("a Param suppression needs the system call and parameter after its kind (e.g. 'write(buf)')");
                extra = line;
                line = lines.Next();
                break;
            case "Leak" when line is not null && !IsLocation(line) && line != "}":
                if (!line.StartsWith("match-leak-kinds:", StringComparison.Ordinal))
                    throw lines.Error($"expected 'match-leak-kinds: KINDS' or a frame after Memcheck:Leak, got '{line}'");
                leakKinds = LeakKinds(line["match-leak-kinds:".Length..].Trim())
                    ?? throw lines.Error($"bad match-leak-kinds '{line}' (a comma-separated list of definite, indirect, possible, reachable, or all or none)");
                line = lines.Next();
                break;
            case "FishyValue" when line is not null && !IsLocation(line) && line != "}":
                // function(argument), as Memcheck prints it.
                int open = line.IndexOf('(', StringComparison.Ordinal);
                if (open <= 0 || line.IndexOf(')', open) < 0) throw lines.Error($"expected 'function(argument)' after Memcheck:FishyValue, got '{line}'");
                extra = line[..(line.IndexOf(')', open) + 1)];
                line = lines.Next();
                break;
        }

        var frames = new List<SuppressionFrame>();
        while (true)
        {
            if (line is null) throw lines.Error("unexpected end of the file (expected a frame or '}')");
            if (line == "}") break;
            if (frames.Count == MaxFrames) throw lines.Error($"too many frames (at most {MaxFrames})");
            frames.Add(Frame(line) ?? throw lines.Error($"a frame line is '...' or starts with 'fun:', 'obj:' or 'src:', got '{line}'"));
            line = lines.Next();
        }
        if (frames.Count == 0) throw lines.Error("the suppression has no frames (at least one fun:, obj: or src: line)");
        if (frames.All(f => f.Type == SuppressionFrameType.AnyFrames))
            throw lines.Error("the suppression's frames are all '...' (at least one fun:, obj: or src: line)");
        return new Suppression(name, kind, extra, leakKinds, frames, lines.File, nameLine);
    }

    private static bool IsLocation(string line) =>
        line == "..." || line.StartsWith("fun:", StringComparison.Ordinal) || line.StartsWith("obj:", StringComparison.Ordinal)
        || line.StartsWith("src:", StringComparison.Ordinal);

    private static SuppressionFrame? Frame(string line)
    {
        if (line == "...") return new SuppressionFrame(SuppressionFrameType.AnyFrames);
        if (line.StartsWith("fun:", StringComparison.Ordinal)) return new SuppressionFrame(SuppressionFrameType.Function, line[4..]);
        if (line.StartsWith("obj:", StringComparison.Ordinal)) return new SuppressionFrame(SuppressionFrameType.Object, line[4..]);
        if (!line.StartsWith("src:", StringComparison.Ordinal)) return null;
        // src:FILE:LINE, or src:FILE (any line); the first colon ends the file name, as Valgrind reads it.
        string source = line[4..];
        int colon = source.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) return new SuppressionFrame(SuppressionFrameType.Source, source);
        int number = int.TryParse(source.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;
        return new SuppressionFrame(SuppressionFrameType.Source, source[..colon], number);
    }

    /// <summary>Valgrind's leak-kind set: names, or all, or none (then nothing matches); null when malformed.</summary>
    private static IReadOnlySet<string>? LeakKinds(string given) => given switch
    {
        "all" => LeakKindNames.ToHashSet(),
        "none" => new HashSet<string>(),
        _ => given.Split(',') is var kinds && kinds.All(LeakKindNames.Contains) ? kinds.ToHashSet() : null,
    };

    /// <summary>The file's meaningful lines, trimmed, with their 1-based numbers.</summary>
    private sealed class Lines(string text, string file)
    {
        private readonly string[] _lines = text.Split('\n');
        private int _index = -1;

        public string File { get; } = file;

        /// <summary>The line last returned by <see cref="Next"/> (at the end of the file, still the last one it returned).</summary>
        public int Number { get; private set; }

        /// <summary>The next line that is neither blank nor a comment; null at the end of the file.</summary>
        public string? Next()
        {
            while (++_index < _lines.Length)
            {
                string line = _lines[_index].Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                Number = _index + 1;
                return line;
            }
            return null;
        }

        public SuppressionFormatException Error(string problem) => new(File, Number, problem);
    }
}
