using System.Text;

namespace Checker.Reports.Suppressions;

/// <summary>
/// --gen-suppressions: the block Valgrind prints after an error, which pasted unchanged into a
/// suppression file silences that error (and, being as specific as the stack, little else):
/// <code>
/// {
///    &lt;insert_a_suppression_name_here&gt;
///    Memcheck:Leak
///    match-leak-kinds: definite
///    fun:malloc
///    fun:make_leak
///    fun:main
/// }
/// </code>
/// One line per frame, innermost first: <c>fun:</c> with the mangled name Valgrind matches, else
/// <c>obj:</c> with the module's path, else <c>obj:*</c>.
/// </summary>
public static class SuppressionBlock
{
    /// <summary>The name line Valgrind writes for the user to replace.</summary>
    public const string PlaceholderName = "<insert_a_suppression_name_here>";

    /// <summary>
    /// The block for <paramref name="error"/> with at most <paramref name="maxFrames"/> frames
    /// (--num-callers); null when it has no Valgrind kind or no frame (a suppression needs one).
    /// </summary>
    public static string? For(ErrorRecord error, int maxFrames)
    {
        if (error.Valgrind is not ValgrindKind kind) return null;
        var text = new StringBuilder();
        text.Append("{\n   ").Append(PlaceholderName).Append("\n   Memcheck:").Append(kind.SuppressionKind).Append('\n');
        string? extra = kind.SuppressionKind == "Leak" ? $"match-leak-kinds: {kind.Extra ?? "definite"}" : kind.Extra;
        if (extra is not null) text.Append("   ").Append(extra).Append('\n');
        var frames = new List<string>();
        if (kind.Routine is string routine) frames.Add("fun:" + routine);
        foreach (ReportFrame frame in error.Stack)
        {
            frames.Add((frame.MangledFunction ?? frame.Function) is string name ? "fun:" + name
                : frame.ModulePath is string module ? "obj:" + module
                : "obj:*");
        }
        if (frames.Count == 0) return null;
        foreach (string frame in frames.Take(Math.Max(1, maxFrames))) text.Append("   ").Append(frame).Append('\n');
        return text.Append("}\n").ToString();
    }
}
