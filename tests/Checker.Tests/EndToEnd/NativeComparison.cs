using System.Text;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Runs a program natively and under <c>memcheck --tool none</c> and asserts that both behave
/// the same: identical exit status, identical stdout bytes, and identical stderr bytes once the
/// lines memcheck writes itself (those starting "memcheck: " or "memcheck[PID]: ") are removed.
/// </summary>
public static class NativeComparison
{
    public static (RunResult Native, RunResult Memcheck) AssertSameBehaviour(
        string program,
        IReadOnlyList<string> arguments,
        byte[]? stdin = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null,
        Func<byte[], byte[]>? normalizeStdout = null)
    {
        var native = ProcessRunner.Run(program, arguments, stdin, environment, workingDirectory);
        var memcheck = MemcheckLauncher.RunToolNone(program, arguments, stdin, environment, workingDirectory);
        AssertSame(native, memcheck, normalizeStdout);
        return (native, memcheck);
    }

    /// <summary>Asserts that a memcheck run matches the native run, with a full report if not.</summary>
    public static void AssertSame(RunResult native, RunResult memcheck, Func<byte[], byte[]>? normalizeStdout = null)
    {
        var problems = new List<string>();
        if (native.ExitCode != memcheck.ExitCode)
            problems.Add($"exit status: native {native.ExitCode}, under memcheck {memcheck.ExitCode}");

        var nativeOut = normalizeStdout is null ? native.Stdout : normalizeStdout(native.Stdout);
        var memcheckOut = normalizeStdout is null ? memcheck.Stdout : normalizeStdout(memcheck.Stdout);
        var stdoutDiff = ByteDiff.Describe(nativeOut, memcheckOut);
        if (stdoutDiff is not null)
            problems.Add("stdout differs: " + stdoutDiff);

        var guestStderr = WithoutMemcheckLines(memcheck.Stderr);
        var stderrDiff = ByteDiff.Describe(native.Stderr, guestStderr);
        if (stderrDiff is not null)
            problems.Add("stderr (without memcheck's own lines) differs: " + stderrDiff);

        if (problems.Count == 0)
            return;

        var report = new StringBuilder();
        report.AppendLine($"Native and memcheck runs differ for: {native.CommandLine}");
        report.AppendLine($"memcheck command: {memcheck.CommandLine}");
        foreach (var p in problems)
            report.AppendLine(" - " + p);
        report.AppendLine($"memcheck's stderr ({memcheck.Stderr.Length} bytes, last part):");
        report.AppendLine(ByteDiff.Printable(memcheck.Stderr, Math.Max(0, memcheck.Stderr.Length - 3000), 3000));
        Assert.Fail(report.ToString());
    }

    /// <summary>The stderr bytes with every line memcheck wrote ("memcheck: ...", "memcheck[PID]: ...") removed.</summary>
    public static byte[] WithoutMemcheckLines(byte[] stderr)
    {
        var output = new MemoryStream();
        int start = 0;
        while (start < stderr.Length)
        {
            int newline = Array.IndexOf(stderr, (byte)'\n', start);
            int end = newline < 0 ? stderr.Length : newline + 1;
            var line = stderr.AsSpan(start, end - start);
            if (!MemcheckLauncher.IsMessageLine(Encoding.UTF8.GetString(line).TrimEnd('\n')))
                output.Write(line);
            start = end;
        }
        return output.ToArray();
    }

    /// <summary>memcheck's own lines ("memcheck: ...", "memcheck[PID]: ...") from a stderr capture.</summary>
    public static List<string> MemcheckLines(byte[] stderr) =>
        Encoding.UTF8.GetString(stderr)
            .Split('\n')
            .Where(l => MemcheckLauncher.IsMessageLine(l) && !System.Text.RegularExpressions.Regex.IsMatch(l, @"^memcheck(\[\d+\])?:\s*$"))
            .ToList();

    /// <summary>Sorts the lines of an output ordinally (for programs whose order is not the point).</summary>
    public static byte[] SortLines(byte[] output)
    {
        var lines = Encoding.UTF8.GetString(output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Array.Sort(lines, StringComparer.Ordinal);
        return Encoding.UTF8.GetBytes(string.Join("\n", lines) + (lines.Length > 0 ? "\n" : ""));
    }
}

/// <summary>Human-readable descriptions of where two byte sequences differ.</summary>
public static class ByteDiff
{
    /// <summary>Null when equal; otherwise lengths, first differing offset and line, and context.</summary>
    public static string? Describe(byte[] expected, byte[] actual)
    {
        if (expected.AsSpan().SequenceEqual(actual))
            return null;
        int common = Math.Min(expected.Length, actual.Length);
        int first = 0;
        while (first < common && expected[first] == actual[first])
            first++;
        int line = 1;
        for (int i = 0; i < first; i++)
        {
            if (expected[i] == (byte)'\n')
                line++;
        }
        int from = Math.Max(0, first - 120);
        return $"native {expected.Length} bytes, under memcheck {actual.Length} bytes; first difference at byte {first} (line {line})\n" +
               $"   native:   {Printable(expected, from, 360)}\n" +
               $"   memcheck: {Printable(actual, from, 360)}";
    }

    /// <summary>A window of bytes as text, with control and non-ASCII bytes escaped.</summary>
    public static string Printable(byte[] bytes, int from, int count)
    {
        var sb = new StringBuilder();
        int end = Math.Min(bytes.Length, from + count);
        if (from > 0)
            sb.Append("...");
        for (int i = from; i < end; i++)
        {
            byte b = bytes[i];
            sb.Append(b switch
            {
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }
        if (end < bytes.Length)
            sb.Append("...");
        if (bytes.Length == 0)
            sb.Append("(empty)");
        return sb.ToString();
    }
}
