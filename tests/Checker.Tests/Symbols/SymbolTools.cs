using System.Globalization;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Symbols;

/// <summary>One frame as binutils' addr2line prints it (-f -i -C): function, file, line (null for "?" or 0).</summary>
public sealed record OracleFrame(string Function, string? File, int? Line);

/// <summary>The host tools the symbol tests use: gcc/g++ to build, binutils (strip, objcopy, addr2line) to derive and check.</summary>
public static class SymbolTools
{
    /// <summary>Runs <paramref name="tool"/> in <paramref name="directory"/>, asserts it succeeded and returns its stdout.</summary>
    public static string Run(string directory, string tool, params string[] arguments)
    {
        RunResult result = ProcessRunner.Run(tool, arguments, workingDirectory: directory);
        Assert.True(result.ExitCode == 0, $"{result.CommandLine} failed ({result.ExitCode}):\n{result.StdoutText}{result.StderrText}");
        return result.StdoutText;
    }

    /// <summary>The 1-based line of the only line of <paramref name="source"/> holding <c>/* MARKER */</c>.</summary>
    public static int LineOf(string source, string marker)
    {
        string[] lines = source.Split('\n');
        int[] hits = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains($"/* {marker} */", StringComparison.Ordinal)).ToArray();
        Assert.True(hits.Length == 1, $"marker {marker} occurs {hits.Length} times in the source");
        return hits[0] + 1;
    }

    /// <summary>
    /// addr2line -a -f -i -C -e FILE for every address (unbiased) at once: the frames of each,
    /// innermost first. "(discriminator N)" suffixes are dropped; "??" stays as the function name.
    /// </summary>
    public static Dictionary<ulong, List<OracleFrame>> Addr2Line(string file, IEnumerable<ulong> addresses)
    {
        List<ulong> list = addresses.Distinct().ToList();
        var arguments = new List<string> { "-a", "-f", "-i", "-C", "-e", file };
        arguments.AddRange(list.Select(a => $"0x{a:x}"));
        string output = Run(Path.GetDirectoryName(file)!, "addr2line", [.. arguments]);

        var result = new Dictionary<ulong, List<OracleFrame>>();
        List<OracleFrame>? current = null;
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("0x", StringComparison.Ordinal))
            {
                current = [];
                result[ulong.Parse(lines[i].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = current;
                continue;
            }
            Assert.True(current != null && i + 1 < lines.Length, $"unexpected addr2line output:\n{output}");
            current!.Add(ParseLocation(lines[i], lines[++i]));
        }
        Assert.Equal(list.Count, result.Count);
        return result;
    }

    private static OracleFrame ParseLocation(string function, string location)
    {
        int discriminator = location.IndexOf(" (discriminator", StringComparison.Ordinal);
        if (discriminator >= 0) location = location[..discriminator];
        int colon = location.LastIndexOf(':');
        string file = location[..colon];
        string lineText = location[(colon + 1)..];
        int? line = int.TryParse(lineText, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : null;
        return new OracleFrame(function, file == "??" ? null : file, line);
    }
}
