namespace Checker.Tests.EndToEnd;

/// <summary>
/// Runs the repository's ./memcheck launcher. The first use builds memcheck (with a generous
/// timeout, so the build doesn't eat into any test's 120 s); later runs find it up to date.
/// </summary>
public static class MemcheckLauncher
{
    private static readonly Lazy<bool> _built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The prefix of every line memcheck itself writes (in a process that never forked).</summary>
    public const string MessagePrefix = "memcheck: ";

    // "memcheck: text", "memcheck:" (a report's blank line) or, once the process has forked or is
    // about to exec, "memcheck[PID]: text".
    private static readonly System.Text.RegularExpressions.Regex MessageLine =
        new(@"^memcheck(\[(?<pid>[0-9]+)\])?:( |$)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>True for a line memcheck wrote itself (without its newline).</summary>
    public static bool IsMessageLine(string line) => MessageLine.IsMatch(line);

    /// <summary>The pid a line names (memcheck[PID]: ...), or null for a plain "memcheck: " line or the guest's.</summary>
    public static int? PidOf(string line) =>
        MessageLine.Match(line) is { Success: true } m && m.Groups["pid"].Success ? int.Parse(m.Groups["pid"].Value) : null;

    private static bool Build()
    {
        var result = ProcessRunner.Run(
            RepoPaths.Launcher, [],
            environment: new Dictionary<string, string?> { ["CHECKER_BUILD_ONLY"] = "1" },
            workingDirectory: RepoPaths.Root,
            timeout: TimeSpan.FromSeconds(900));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Building memcheck with {RepoPaths.Launcher} failed (exit {result.ExitCode}):\n{result.StderrText}");
        }
        return true;
    }

    /// <summary>
    /// The path of the ./memcheck launcher, built and ready to run: for tests that run it
    /// through a shell or another wrapper rather than with <see cref="Run"/>.
    /// </summary>
    public static string Executable
    {
        get
        {
            _ = _built.Value;
            return RepoPaths.Launcher;
        }
    }

    /// <summary>Runs <c>memcheck ARGS</c> (the arguments exactly as given).</summary>
    public static RunResult Run(
        IEnumerable<string> memcheckArguments,
        byte[]? stdin = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null)
    {
        _ = _built.Value;
        return ProcessRunner.Run(RepoPaths.Launcher, memcheckArguments, stdin, environment, workingDirectory);
    }

    /// <summary>Runs <c>memcheck --tool none [extra options] -- PROGRAM ARGS</c>.</summary>
    public static RunResult RunToolNone(
        string program,
        IEnumerable<string> programArguments,
        byte[]? stdin = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null,
        IEnumerable<string>? extraOptions = null)
    {
        var args = new List<string> { "--tool", "none" };
        if (extraOptions is not null)
            args.AddRange(extraOptions);
        args.Add("--");
        args.Add(program);
        args.AddRange(programArguments);
        return Run(args, stdin, environment, workingDirectory);
    }
}
