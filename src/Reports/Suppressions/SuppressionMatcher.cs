namespace Checker.Reports.Suppressions;

/// <summary>
/// Decides which suppression, if any, silences an error, as Valgrind's error manager and Memcheck
/// do: the first suppression (in file order, files in the order read) whose kind matches the
/// error's and whose frames match the start of the error's stack.
/// <list type="bullet">
/// <item>Kind: equal Valgrind suppression kinds (<c>Addr4</c> is a 4-byte invalid access,
/// <c>Value8</c> an 8-byte undefined value, <c>Free</c> both an invalid and a mismatched free);
/// a Param's line equals the error's call (<c>write(buf)</c>); a FishyValue's line its routine and
/// argument; a Leak matches the leak kinds of its <c>match-leak-kinds:</c> (all without one).</item>
/// <item>Frames, innermost first, from the replaced allocator the error happened in when there is
/// one (<see cref="ValgrindKind.Routine"/>), each inlined call a frame as in Valgrind: <c>fun:</c>
/// matches the mangled name or the demangled one (<c>???</c> for a frame without a name),
/// <c>obj:</c> the module's path (<c>???</c> outside modules), <c>src:</c> the source file's name
/// and line; <c>...</c> any number of frames. Only the suppression's first --num-callers frames
/// count, as Valgrind reads no more of them.</item>
/// </list>
/// </summary>
public sealed class SuppressionMatcher
{
    private const string Unknown = "???";

    private readonly IReadOnlyList<Suppression> _suppressions;
    private readonly int _maxFrames;

    /// <param name="maxFrames">--num-callers: how many of each suppression's frames are matched.</param>
    public SuppressionMatcher(IReadOnlyList<Suppression> suppressions, int maxFrames = SuppressionFile.MaxFrames)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrames, 1);
        _suppressions = suppressions;
        _maxFrames = maxFrames;
    }

    public IReadOnlyList<Suppression> Suppressions => _suppressions;

    /// <summary>The first suppression that silences <paramref name="error"/>; null when none does.</summary>
    public Suppression? Match(ErrorRecord error)
    {
        if (error.Valgrind is not ValgrindKind kind || _suppressions.Count == 0) return null;
        MatchFrame[]? frames = null;
        foreach (Suppression suppression in _suppressions)
        {
            if (!KindMatches(suppression, kind)) continue;
            frames ??= Frames(error, kind);
            if (FramesMatch(suppression, frames)) return suppression;
        }
        return null;
    }

    /// <summary>Whether <paramref name="suppression"/>'s kind and extra line fit an error of <paramref name="kind"/>.</summary>
    public static bool KindMatches(Suppression suppression, ValgrindKind kind)
    {
        if (suppression.Kind != kind.SuppressionKind) return false;
        return suppression.Kind switch
        {
            "Param" => suppression.Extra == kind.Extra,
            // No line: any fishy value (Valgrind's reader leaves it unset).
            "FishyValue" => suppression.Extra is null || suppression.Extra == kind.Extra,
            "Leak" => suppression.LeakKinds is null || (kind.Extra is string leak && suppression.LeakKinds.Contains(leak)),
            _ => true,
        };
    }

    private bool FramesMatch(Suppression suppression, MatchFrame[] frames)
    {
        IReadOnlyList<SuppressionFrame> patterns = suppression.Frames;
        int count = Math.Min(patterns.Count, _maxFrames);
        return Wildcard.Matches(count, frames.Length,
            p => patterns[p].Type == SuppressionFrameType.AnyFrames,
            _ => false,
            (p, i) => frames[i].Matches(patterns[p]),
            prefix: true);
    }

    /// <summary>The error's frames as suppressions see them: the allocator routine, then the stack.</summary>
    private static MatchFrame[] Frames(ErrorRecord error, ValgrindKind kind)
    {
        var frames = new List<MatchFrame>(error.Stack.Count + 1);
        if (kind.Routine is string routine) frames.Add(new MatchFrame(routine, null, null, null, 0));
        foreach (ReportFrame frame in error.Stack)
            frames.Add(new MatchFrame(frame.MangledFunction, frame.Function, frame.ModulePath, frame.File, frame.Line ?? 0));
        return [.. frames];
    }

    private sealed record MatchFrame(string? Mangled, string? Demangled, string? Module, string? File, int Line)
    {
        public bool Matches(SuppressionFrame pattern) => pattern.Type switch
        {
            SuppressionFrameType.Function => (Mangled is null && Demangled is null)
                ? Name(pattern.Pattern!, Unknown)
                : (Mangled is not null && Name(pattern.Pattern!, Mangled)) || (Demangled is not null && Demangled != Mangled && Name(pattern.Pattern!, Demangled)),
            SuppressionFrameType.Object => Name(pattern.Pattern!, Module ?? Unknown),
            // Valgrind compares the file name as the line table gives it, without its directory.
            SuppressionFrameType.Source => File is not null && Name(pattern.Pattern!, Path.GetFileName(File))
                && (pattern.Line == 0 || pattern.Line == Line),
            _ => true,
        };

        private static bool Name(string pattern, string name) =>
            Wildcard.IsLiteral(pattern) ? pattern == name : Wildcard.Matches(pattern, name);
    }
}
