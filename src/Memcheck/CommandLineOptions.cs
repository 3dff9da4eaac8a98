using System.CommandLine;

namespace Checker.Memcheck;

/// <summary>One row of the options table: the single definition behind parsing, --help and docs/options.md.</summary>
public sealed record OptionSpec(string Name, string ValueName, string Default, string Help);

/// <summary>
/// memcheck's options, declared once. <see cref="Build"/> turns them into System.CommandLine
/// options; <see cref="MarkdownTable"/> renders the documentation.
/// </summary>
public static class CommandLineOptions
{
    public static readonly OptionSpec Tool = new("--tool", "NAME", "memcheck",
        "What to run: 'memcheck' (the default) checks every memory access against shadow memory (heap overflow and underflow, use after free, access beyond the top of the stack), replaces the malloc family with the checking allocator (double, invalid and mismatched frees) and reports leaks at exit; 'none' translates and runs the program with no checking.");
    public static readonly OptionSpec Stats = new("--stats", "", "off",
        "Print engine statistics at exit: fragments, code-cache bytes, dispatcher entries, links, indirect lookups and misses, syscalls, replaced calls, access-check exits, translation time.");

    public static readonly OptionSpec Json = new("--json", "FILE", "",
        "Write the errors as JSON to FILE at exit (schema version 1: program, args, pid, exit_code, errors with kind, message, count, stack, block; summary). Written even when the program crashes.");
    public static readonly OptionSpec ErrorExitCode = new("--error-exitcode", "N", "",
        "Exit with N when any error was reported (otherwise with the program's own status): lets CI gate on memcheck.");
    public static readonly OptionSpec RedzoneSize = new("--redzone-size", "BYTES", "adaptive",
        "Redzone on each side of every heap block (rounded up to 16). By default it grows with the block as AddressSanitizer's: 16 bytes up to 48-byte blocks, 32 up to 96, 64 up to 448, 128 up to 3968, then 256, 512, 1024 and 2048 above 64 KB.");
    public static readonly OptionSpec DelayFreesBytes = new("--delay-frees-bytes", "BYTES", "4194304",
        "Bytes of freed blocks held back from reuse (delayed frees), so use after free keeps pointing at freed memory.");
    public static readonly OptionSpec CallstackMaxFrames = new("--callstack-max-frames", "N", "12",
        "Frames recorded for each allocation, free and error.");

    public static readonly OptionSpec LeakCheck = new("--leak-check", "no|summary|full", "summary",
        "The leak check at exit, as Valgrind's: 'summary' scans and prints the leaked bytes and blocks under ERRORS IGNORED (not errors: the exit code and --error-exitcode ignore them); 'full' reports each leak, with its allocation callstack, as an error; 'no' skips the scan.");

    public static readonly IReadOnlyList<OptionSpec> All = [Tool, Stats, Json, ErrorExitCode, LeakCheck, RedzoneSize, DelayFreesBytes, CallstackMaxFrames];

    public static readonly string[] LeakChecks = ["no", "summary", "full"];

    public static readonly string[] Tools = ["none", "memcheck"];

    /// <summary>docs/options.md, generated from the table (a test keeps the file in step).</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string>
        {
            "# memcheck options",
            "",
            "Generated from `src/Memcheck/CommandLineOptions.cs`; do not edit by hand.",
            "",
            "Usage: `memcheck [options] -- PROGRAM [ARGS...]` (without `--`, the first word that is not an option starts the program).",
            "",
            "| option | default | meaning |",
            "| --- | --- | --- |",
        };
        foreach (OptionSpec o in All)
            lines.Add($"| `{o.Name}{(o.ValueName.Length > 0 ? " " + o.ValueName : "")}` | {o.Default} | {o.Help} |");
        lines.Add("| `--version` | | print the version and exit |");
        lines.Add("| `--help` | | print usage and exit |");
        return string.Join('\n', lines) + '\n';
    }

    /// <summary>
    /// Splits memcheck's own options from the program and its arguments: at <c>--</c>, or else at
    /// the first word that is neither an option nor an option's value (as valgrind does).
    /// </summary>
    public static (string[] Options, string[] Command) SplitAtProgram(string[] args)
    {
        int dashes = Array.IndexOf(args, "--");
        if (dashes >= 0) return (args[..dashes], args[(dashes + 1)..]);
        var takesValue = All.Where(o => o.ValueName.Length > 0).Select(o => o.Name).ToHashSet();
        for (int i = 0; i < args.Length; i++)
        {
            if (takesValue.Contains(args[i])) { i++; continue; }
            if (!args[i].StartsWith('-')) return (args[..i], args[i..]);
        }
        return (args, []);
    }

    /// <summary>The System.CommandLine options for the table's rows, and how to read the settings back.</summary>
    public static (IReadOnlyList<Option> Options, Func<ParseResult, MemcheckSettings> Read) Build()
    {
        var tool = new Option<string>(Tool.Name) { Description = Tool.Help, HelpName = Tool.ValueName, DefaultValueFactory = _ => Tool.Default };
        tool.AcceptOnlyFromAmong(Tools);
        var stats = new Option<bool>(Stats.Name) { Description = Stats.Help };
        var json = new Option<string?>(Json.Name) { Description = Json.Help, HelpName = Json.ValueName };
        var errorExitCode = new Option<int?>(ErrorExitCode.Name) { Description = ErrorExitCode.Help, HelpName = ErrorExitCode.ValueName };
        var leakCheck = new Option<string>(LeakCheck.Name) { Description = LeakCheck.Help, HelpName = LeakCheck.ValueName, DefaultValueFactory = _ => LeakCheck.Default };
        leakCheck.AcceptOnlyFromAmong(LeakChecks);
        var redzone = new Option<ulong?>(RedzoneSize.Name) { Description = RedzoneSize.Help, HelpName = RedzoneSize.ValueName };
        var delay = Number<ulong>(DelayFreesBytes, ulong.Parse(DelayFreesBytes.Default));
        var frames = Number<int>(CallstackMaxFrames, int.Parse(CallstackMaxFrames.Default));
        frames.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 256) r.AddError($"{CallstackMaxFrames.Name} must be 1 to 256"); });
        return ([tool, stats, json, errorExitCode, leakCheck, redzone, delay, frames], parse => new MemcheckSettings(
            parse.GetValue(tool) ?? Tool.Default, parse.GetValue(stats), parse.GetValue(json), parse.GetValue(errorExitCode),
            parse.GetValue(redzone), parse.GetValue(delay), parse.GetValue(frames), parse.GetValue(leakCheck) ?? LeakCheck.Default));
    }

    private static Option<T> Number<T>(OptionSpec spec, T defaultValue) =>
        new(spec.Name) { Description = spec.Help, HelpName = spec.ValueName, DefaultValueFactory = _ => defaultValue };
}

/// <summary>The parsed command line.</summary>
public sealed record MemcheckSettings(
    string Tool, bool Stats, string? JsonPath, int? ErrorExitCode, ulong? RedzoneSize, ulong DelayFreesBytes, int CallstackMaxFrames,
    string LeakCheck = "summary")
{
    public bool CheckHeap => Tool == "memcheck";
    public bool ScanForLeaks => CheckHeap && LeakCheck != "no";
    /// <summary>Leaks are errors (listed, counted, --error-exitcode) only with --leak-check=full.</summary>
    public bool LeaksAreErrors => LeakCheck == "full";
}
