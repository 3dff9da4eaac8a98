using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Heap;

/// <summary>A memcheck run of a case and its parsed <c>--json</c> report.</summary>
internal sealed record MemcheckReport(RunResult Run, JsonElement Root)
{
    public JsonElement[] Errors => Root.GetProperty("errors").EnumerateArray().ToArray();

    /// <summary>What a failed assertion shows: the command line and memcheck's stderr (its text report).</summary>
    public string Context => $"{Run.CommandLine}\nstderr:\n{Run.StderrText}";
}

/// <summary>
/// Shared by the tests that check memcheck's errors through the <c>--json</c> report: running a case
/// under <c>--tool memcheck</c>, finding a marked line of a case's source, and checking a frame.
/// </summary>
internal static class MemcheckJson
{
    /// <summary>Runs <c>memcheck --tool memcheck --json FILE [extra] -- program</c> (stdin "line\n") and parses the report.</summary>
    public static MemcheckReport RunMemcheck(string program, params string[] extra) => RunMemcheckCommand([program], extra);

    /// <summary>Runs <c>memcheck --tool memcheck --json FILE [options] -- COMMAND...</c> (stdin "line\n") and parses the report.</summary>
    public static MemcheckReport RunMemcheckCommand(string[] command, params string[] options)
    {
        string json = Path.Combine(Scratch.NewDirectory("heap-json"), "report.json");
        var run = MemcheckLauncher.Run(["--tool", "memcheck", "--json", json, .. options, "--", .. command], "line\n"u8.ToArray(), null, null);
        Assert.True(File.Exists(json), $"no JSON report\n{run.CommandLine}\n{run.StderrText}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        return new MemcheckReport(run, document.RootElement.Clone());
    }

    /// <summary>
    /// The 1-based line of tests/cases/<paramref name="source"/> that carries <paramref name="marker"/>
    /// as a whole word (so LINE_X does not match LINE_X_ALLOC); exactly one line must carry it.
    /// </summary>
    public static int Line(string source, string marker)
    {
        var pattern = new Regex($@"\b{Regex.Escape(marker)}\b");
        string[] lines = File.ReadAllLines(Path.Combine(RepoPaths.Cases, source));
        int[] found = Enumerable.Range(0, lines.Length).Where(i => pattern.IsMatch(lines[i])).ToArray();
        Assert.True(found.Length == 1, $"{source}: marker {marker} is on {found.Length} lines, expected 1");
        return found[0] + 1;
    }

    /// <summary>Asserts that <paramref name="frame"/> is <paramref name="function"/> at tests/cases/<paramref name="source"/>:<paramref name="line"/>.</summary>
    public static void AssertFrame(JsonElement frame, string function, string source, int line, string context)
    {
        string file = frame.TryGetProperty("file", out var f) ? f.GetString()! : "";
        int actualLine = frame.TryGetProperty("line", out var l) ? l.GetInt32() : 0;
        string name = FunctionOf(frame);
        Assert.True(name == function && file == Path.Combine(RepoPaths.Cases, source) && actualLine == line,
            $"expected {function} [{source}:{line}], got {name} [{file}:{actualLine}]\n{context}");
    }

    /// <summary>The frame's function, or "??" without one.</summary>
    public static string FunctionOf(JsonElement frame) =>
        frame.TryGetProperty("function", out var name) ? name.GetString()! : "??";

    /// <summary>A stack as one line, innermost first: <c>memcpy &lt;- main [x.c:12] &lt;- ...</c>.</summary>
    public static string Describe(JsonElement stack) => string.Join(" <- ", stack.EnumerateArray().Select(frame =>
        frame.TryGetProperty("line", out var line) && frame.TryGetProperty("file", out var file)
            ? $"{FunctionOf(frame)} [{Path.GetFileName(file.GetString())}:{line.GetInt32()}]"
            : FunctionOf(frame)));

    /// <summary>An address as the report writes it ("0x1a2b").</summary>
    public static ulong Address(JsonElement hex)
    {
        string text = hex.GetString()!;
        Assert.StartsWith("0x", text);
        return ulong.Parse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }
}
