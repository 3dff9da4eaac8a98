namespace Checker.Reports;

/// <summary>
/// Valgrind's <c>--show-below-main=no</c>, the default: a stack ends at <c>main</c>. What runs main
/// (glibc's <c>__libc_start_call_main</c> and <c>__libc_start_main</c>, the executable's
/// <c>_start</c>) is the same in every program and only lengthens each report. A stack without
/// main (a constructor, an atexit handler) ends at the first of those functions instead, named
/// <see cref="Placeholder"/>, as Valgrind shows it. Applied to every stack of a report, the
/// allocation and free stacks too, in the text and the JSON alike (Valgrind's XML shows the same
/// stacks as its text).
/// </summary>
public static class BelowMain
{
    /// <summary>The name a below-main frame is shown under when the stack has no main.</summary>
    public const string Placeholder = "(below main)";

    // glibc >= 2.34 calls main from __libc_start_call_main; libc6-dbg's DWARF names
    // __libc_start_main __libc_start_main_impl; generic_start_main is older glibc's.
    private static readonly HashSet<string> StartFunctions =
        ["__libc_start_call_main", "__libc_start_main", "__libc_start_main_impl", "generic_start_main", "_start"];

    /// <summary>True for the functions that run main.</summary>
    public static bool IsBelowMain(string? function) => function != null && StartFunctions.Contains(function);

    /// <summary>
    /// <paramref name="frames"/> (innermost first) up to and including <c>main</c> (and the frames
    /// inlined into it, which come before it); without main, up to the first below-main frame,
    /// renamed <see cref="Placeholder"/>. Unchanged when neither occurs.
    /// </summary>
    public static IReadOnlyList<ReportFrame> Cut(IReadOnlyList<ReportFrame> frames)
    {
        for (int i = 0; i < frames.Count; i++)
        {
            if (frames[i].Function == "main" && !frames[i].Inlined) return frames.Take(i + 1).ToArray();
            if (IsBelowMain(frames[i].Function))
                return [.. frames.Take(i), frames[i] with { Function = Placeholder, SymbolOffset = null, MangledFunction = Placeholder }];
        }
        return frames;
    }
}
