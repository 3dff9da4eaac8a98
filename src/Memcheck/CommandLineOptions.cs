using System.CommandLine;
using System.CommandLine.Parsing;

namespace Checker.Memcheck;

/// <summary>
/// One row of the options table: the single definition behind parsing, validation, --help and
/// docs/options.md.
/// </summary>
/// <param name="Name">The option as documented (<c>--callstack-max-frames</c>).</param>
/// <param name="ValueName">What the value is (<c>N</c>, <c>FILE</c>, <c>yes|no</c>).</param>
/// <param name="Default">The value when the option is not given; empty for "none".</param>
/// <param name="Help">One paragraph for --help and docs/options.md.</param>
/// <param name="Value">Checks a value and gives it normalised (<c>yes</c> for <c>--leak-check</c> is
/// <c>full</c>), or null when it is not a valid value.</param>
/// <param name="Expected">What a valid value is, for the error message: "a number from 0 to 255".</param>
public sealed record OptionSpec(string Name, string ValueName, string Default, string Help, Func<string, string?> Value, string Expected)
{
    /// <summary>Other spellings of the option (Valgrind's, where it names the same setting differently).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>A yes/no option: <c>--name</c> alone means yes; <c>--name=yes|no</c> as Valgrind spells it.</summary>
    public bool IsSwitch => ValueName == CommandLineOptions.YesNo;

    /// <summary>Every occurrence counts (<c>--suppressions A --suppressions B</c>), not only the last.</summary>
    public bool Repeatable { get; init; }

    /// <summary>The value is a file name: made absolute before the program runs (it may change directory, and programs it execs are given it).</summary>
    public bool IsPath { get; init; }

    /// <summary>The name and every alias.</summary>
    public IEnumerable<string> Spellings => Aliases.Prepend(Name);
}

/// <summary>
/// memcheck's options, declared once. Options shared with Valgrind take Valgrind's spellings and
/// values (<c>--leak-check=yes</c>, <c>--num-callers</c>, <c>--opt=value</c>; we also accept
/// <c>--opt value</c>); every value is checked before the program runs, and a bad one is one line
/// and exit 2. <see cref="Build"/> turns the table into System.CommandLine options;
/// <see cref="MarkdownTable"/> renders the documentation.
/// </summary>
public static class CommandLineOptions
{
    /// <summary>The value name of a yes/no switch.</summary>
    public const string YesNo = "yes|no";

    public static readonly OptionSpec Tool = new("--tool", "NAME", "memcheck",
        "What to run: 'memcheck' (the default) checks every memory access against shadow memory (heap overflow and underflow, use after free, access beyond the top of the stack), replaces the malloc family with the checking allocator (double, invalid and mismatched frees) and reports leaks at exit; 'none' translates and runs the program with no checking.",
        Choice(("none", "none"), ("memcheck", "memcheck")), "none or memcheck");
    public static readonly OptionSpec Stats = new("--stats", YesNo, "no",
        "Print engine statistics at exit: fragments, code-cache bytes, dispatcher entries, links, indirect lookups (at rets, indirect calls, indirect jmps) and misses, syscalls, replaced calls, access-check exits, translation time; with definedness its exits (propagation, switches to the propagating mode), reports, and fragments and translation time per mode.",
        Switch, "yes or no");

    public static readonly OptionSpec TranslationCache = new("--translation-cache", "DIR", "",
        "Keep translated code in DIR across runs (Dr. Memory's -persist_code): a run of the same program under the same memcheck and code-changing options starts from what earlier runs translated, each piece used only where the program's code bytes are still the same, and saves what it added at exit. For test suites and other repeated runs (MEMCHECK_OPTIONS=--translation-cache=DIR sets it for all of them); a file per program, about the size of its code cache (GCC's cc1plus: 144 MB). Off by default.",
        value => value.Length > 0 ? value : null, "a directory name")
    {
        IsPath = true,
    };

    public static readonly OptionSpec TraceEvents = new("--trace-events", YesNo, "no",
        "Print each event the engine gives the tool, one line each: modules loaded and unloaded, mmap/munmap/mprotect/mremap/brk, threads started and exited, sigaltstack, signal frames, faults the program handles, fork, exec, process exit. For tool writers and bug reports, as Valgrind's --trace-syscalls.",
        Switch, "yes or no");

    public static readonly OptionSpec Json = new("--json", "FILE", "",
        "Write the errors as JSON to FILE at exit (schema version 1: program, args, pid, exit_code, errors with kind, message, count, stack, block; summary). Written even when the program crashes, and before it execs another program (then with \"exec\" instead of exit_code). %p in FILE is the process's pid; without %p a forked child, or a program exec'd under memcheck, writes FILE with its pid before the extension (report.1234.json); a program exec'd by a process that already wrote that name adds .1, .2, ... (report.1234.1.json). FILE's directory must exist and be writable: that is checked before the program starts.",
        value => value.Length > 0 ? value : null, "a file name");
    public static readonly OptionSpec ErrorExitCode = new("--error-exitcode", "N", "0",
        "Exit with N (1 to 255) when any unsuppressed error was reported (otherwise with the program's own status): lets CI gate on memcheck. Every kind counts, uninitialized reads included; leaks count only with --leak-check=full and only the kinds --errors-for-leak-kinds names. 0, the default, turns it off, as under Valgrind.",
        Integer(0, 255), "a number from 0 to 255");
    public static readonly OptionSpec ErrorsForLeakKinds = new("--errors-for-leak-kinds", "KINDS", "definite,possible",
        "Which leaks count as errors for --error-exitcode (with --leak-check=full), as Valgrind's option: a comma-separated list of definite, indirect, possible, reachable, or 'all' or 'none'. memcheck folds indirectly lost blocks into the definite leak that holds them, so 'indirect' counts nothing on its own, and reachable blocks are not reported.",
        LeakKinds, "a comma-separated list of definite, indirect, possible, reachable, or all or none");

    public static readonly OptionSpec Suppressions = new("--suppressions", "FILE", "",
        "Read suppressions from FILE, in Valgrind's format unchanged (Memcheck:Addr4, Cond, Value8, Param, Free, Leak with match-leak-kinds, ...; fun:/obj: frames with * and ? wildcards and ... for any frames). Repeatable. An error a suppression matches is not shown and does not count for --error-exitcode; the summary counts it under the suppression's name.",
        value => value.Length > 0 ? value : null, "a file name")
    {
        Repeatable = true,
        IsPath = true,
    };
    public static readonly OptionSpec DefaultSuppressions = new("--default-suppressions", YesNo, "yes",
        "Read the suppression file shipped with memcheck (system-library noise, each entry saying why) before --suppressions files, as Valgrind's option.",
        Switch, "yes or no");
    public static readonly OptionSpec GenSuppressions = new("--gen-suppressions", "no|yes|all", "no",
        "After each error, print a suppression block that silences exactly that error, ready to paste into a --suppressions file. 'yes' is taken as 'all': memcheck never asks on the terminal (the program owns stdin).",
        Choice(("no", "no"), ("yes", "all"), ("all", "all")), "no, yes or all");

    public static readonly OptionSpec LogFile = new("--log-file", "FILE", "",
        "Write memcheck's report (every line it would write on stderr once the program starts) to FILE instead, as Valgrind's option. %p in FILE is the process's pid (each forked child and exec'd program then writes its own file), %q{VAR} the value of environment variable VAR. Without %p, related processes append to the one file, each line naming its pid.",
        value => value.Length > 0 ? value : null, "a file name")
    {
        IsPath = true,
    };
    public static readonly OptionSpec Xml = new("--xml", "FILE", "",
        "Also write the errors to FILE in Valgrind's XML format (protocol 4), for tools that read Valgrind's XML. Valgrind's spelling, --xml=yes --xml-file=FILE, works too (--xml=no turns it off). %p in FILE is the pid, as for --log-file.",
        value => value.Length > 0 ? value : null, "a file name")
    {
        Aliases = ["--xml-file"],
        IsPath = true,
        Repeatable = true,
    };
    public static readonly OptionSpec Sarif = new("--sarif", "FILE", "",
        "Also write the errors to FILE as SARIF 2.1.0, for code-scanning tools (GitHub code scanning, GitLab, Azure DevOps): one rule per error kind, each result at the innermost frame in the program's own code with the whole stack as a code flow, and fingerprints that stay the same across runs. %p in FILE is the pid.",
        value => value.Length > 0 ? value : null, "a file name")
    {
        IsPath = true,
    };
    public static readonly OptionSpec Html = new("--html", "FILE", "",
        "Also write one self-contained HTML page to FILE (no network fetches): the summary, errors grouped by kind and site with the source lines around each frame in the program's code, collapsible stacks, leaks sortable by bytes, the program, its arguments and how it ended. %p in FILE is the pid.",
        value => value.Length > 0 ? value : null, "a file name")
    {
        IsPath = true,
    };
    public static readonly OptionSpec Quiet = new("--quiet", YesNo, "no",
        "Show only errors: no summary table and no notes (Valgrind's -q).",
        Switch, "yes or no")
    {
        Aliases = ["-q"],
    };
    public static readonly OptionSpec Verbose = new("--verbose", YesNo, "no",
        "Say more: the options and suppression files in effect at the start, and the suppressions used with their counts at the end (Valgrind's -v).",
        Switch, "yes or no")
    {
        Aliases = ["-v"],
    };
    public static readonly OptionSpec RedzoneSize = new("--redzone-size", "BYTES", "adaptive",
        "Redzone on each side of every heap block (0 to 4096, rounded up to 16), as Valgrind's option. By default it grows with the block as AddressSanitizer's: 16 bytes up to 48-byte blocks, 32 up to 96, 64 up to 448, 128 up to 3968, then 256, 512, 1024 and 2048 above 64 KB.",
        Integer(0, 4096), "a number of bytes from 0 to 4096");
    public static readonly OptionSpec DelayFreesBytes = new("--delay-frees-bytes", "BYTES", "4194304",
        "Bytes of freed blocks held back from reuse (delayed frees), so use after free keeps pointing at freed memory.",
        Integer(0, long.MaxValue), "a number of bytes");
    public static readonly OptionSpec DelayFrees = new("--delay-frees", "N", "2000",
        "Freed blocks held back from reuse, at most (with at most --delay-frees-bytes of them), as Dr. Memory's -delay_frees: a use after free is caught while fewer than N frees came after the block's. Reusing blocks freed long before costs cache misses on every allocation (sqlite: 2000 frees run 15% faster than 4 MB of them).",
        Integer(0, long.MaxValue), "a number of blocks");
    public static readonly OptionSpec CallstackMaxFrames = new("--callstack-max-frames", "N", "12",
        "Frames recorded for each allocation, free and error (1 to 500, Valgrind's range). --num-callers is Valgrind's name for it.",
        Integer(1, 500), "a number from 1 to 500")
    {
        Aliases = ["--num-callers"],
    };
    public static readonly OptionSpec ShowBelowMain = new("--show-below-main", YesNo, "no",
        "Show the frames below main (__libc_start_call_main, __libc_start_main, _start) in every stack, text and JSON; by default a stack ends at main, as under Valgrind (without main, at the first of those, shown as '(below main)').",
        Switch, "yes or no");

    public static readonly OptionSpec CheckUninitialized = new("--check-uninitialized", YesNo, "yes",
        "Track which bytes and register bits were never written (malloc'd and new'd memory starts undefined) and report an UNINITIALIZED READ where such a value decides something: a conditional jump or move, an address, an indirect jump's target, a divisor, a system call's argument or the memory a system call reads (write's buffer). Copies of undefined bytes are never reported. 'no' checks addressability only, faster.",
        Switch, "yes or no");

    public static readonly OptionSpec TrackOrigins = new("--track-origins", YesNo, "no",
        "With --check-uninitialized: each UNINITIALIZED READ also names where the undefined value came from: the heap block it was first read from (its size, address and allocation callstack), or the function whose stack frame held it, as Valgrind's option does. Costs only where undefined values are propagated.",
        Switch, "yes or no");

    public static readonly OptionSpec LeakCheck = new("--leak-check", "no|summary|full", "summary",
        "The leak check at exit, as Valgrind's: 'summary' scans and prints the leaked bytes and blocks under ERRORS IGNORED (not errors: the exit code and --error-exitcode ignore them); 'full' (or Valgrind's 'yes') reports each leak, with its allocation callstack, as an error; 'no' skips the scan.",
        Choice(("no", "no"), ("summary", "summary"), ("full", "full"), ("yes", "full")), "no, summary, full or yes");

    public static readonly OptionSpec TraceChildren = new("--trace-children", YesNo, "yes",
        "Follow execve: a program the checked program execs (a forked child's exec included: fork+exec, vfork, posix_spawn, system(), popen(), a shell's commands) runs under memcheck too, with the same options, and writes its own report under its pid. 'no' runs exec'd programs natively, unchecked (Valgrind's default). Forked children that do not exec are always checked.",
        Switch, "yes or no");
    public static readonly OptionSpec TraceChildrenSkip = new("--trace-children-skip", "PATTERN,...", "",
        "Programs to run natively even with --trace-children=yes, as Valgrind's option: a comma-separated list of patterns matched against the path the program execs ('*' any characters, '/' included; '?' one character; '\\' escapes the next), e.g. '*/python3*,/usr/bin/env'.",
        value => value, "a comma-separated list of patterns");

    public static readonly IReadOnlyList<OptionSpec> All =
        [Tool, Quiet, Verbose, LogFile, Json, Xml, Sarif, Html, ErrorExitCode, ErrorsForLeakKinds, Suppressions, DefaultSuppressions, GenSuppressions,
         CheckUninitialized, TrackOrigins, LeakCheck, RedzoneSize, DelayFreesBytes, DelayFrees, CallstackMaxFrames, ShowBelowMain, TraceChildren, TraceChildrenSkip,
         TranslationCache, Stats, TraceEvents];

    /// <summary>docs/options.md, generated from the table (a test keeps the file in step).</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string>
        {
            "# memcheck options",
            "",
            "Generated from `src/Memcheck/CommandLineOptions.cs`; do not edit by hand.",
            "",
            "Usage: `memcheck [options] -- PROGRAM [ARGS...]`. The first `--` ends memcheck's options (a later one is the program's); without it, the first word that is not an option starts the program.",
            "",
            "Values are given as `--option=value` (Valgrind's spelling) or `--option value`; a yes/no option alone means yes. " +
            "Each value is checked before the program starts: a bad one is one line on stderr and exit status 2. " +
            "Given twice, the last one counts.",
            "",
            "| option | default | meaning |",
            "| --- | --- | --- |",
        };
        foreach (OptionSpec o in All)
        {
            string spellings = string.Join(", ", o.Spellings.Select(s => $"`{s}{(o.IsSwitch ? "[=yes|no]" : "=" + o.ValueName)}`"));
            // A '|' inside a table cell (code spans included) must be escaped in GitHub's tables.
            lines.Add($"| {spellings.Replace("|", "\\|")} | {(o.Default.Length > 0 ? o.Default : "none")} | {o.Help.Replace("|", "\\|")} |");
        }
        lines.Add("| `--version` | | print the version and exit |");
        lines.Add("| `--help` | | print usage and exit |");
        return string.Join('\n', lines) + '\n';
    }

    /// <summary>
    /// Splits memcheck's own options from the program and its arguments: at the first <c>--</c>
    /// met among the options, or else at the first word that is neither an option nor an option's
    /// value (as valgrind does). Everything after that point is the program's, <c>--</c> included.
    /// </summary>
    public static (string[] Options, string[] Command) SplitAtProgram(string[] args)
    {
        var takesSeparateValue = All.Where(o => !o.IsSwitch).SelectMany(o => o.Spellings).ToHashSet();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--") return (args[..i], args[(i + 1)..]);
            // "--opt --" is a missing value (the parser says so), not a file called "--".
            if (takesSeparateValue.Contains(args[i]) && i + 1 < args.Length && args[i + 1] != "--") { i++; continue; }
            if (!args[i].StartsWith('-')) return (args[..i], args[i..]);
        }
        return (args, []);
    }

    /// <summary>The System.CommandLine options for the table's rows, and how to read the settings back.</summary>
    public static (IReadOnlyList<Option> Options, Func<ParseResult, MemcheckSettings> Read) Build()
    {
        var options = All.ToDictionary(spec => spec, Option);
        return (options.Values.ToArray(), parse =>
        {
            // Absent: the default. Given without a value (a switch): the parser may not run, so yes.
            string Get(OptionSpec spec) => parse.GetResult(options[spec]) is null
                ? spec.Default
                : parse.GetValue(options[spec]) ?? (spec.IsSwitch ? "yes" : spec.Default);
            int exitCode = int.Parse(Get(ErrorExitCode));
            // Not given: adaptive (grows with the block); given: that width for every block.
            ulong? redzone = Get(RedzoneSize) is var width && width == RedzoneSize.Default ? null : ulong.Parse(width);
            string json = Get(Json);
            string? File(OptionSpec spec) => Get(spec) is { Length: > 0 } name ? name : null;
            return new MemcheckSettings(
                Get(Tool), Get(Stats) == "yes", json.Length > 0 ? json : null, exitCode == 0 ? null : exitCode,
                redzone, ulong.Parse(Get(DelayFreesBytes)), int.Parse(Get(CallstackMaxFrames)),
                Get(LeakCheck), Get(ShowBelowMain) == "yes")
            {
                DelayFrees = ulong.Parse(Get(DelayFrees)),
                TraceChildren = Get(TraceChildren) == "yes",
                CheckUninitialized = Get(CheckUninitialized) == "yes",
                TrackOrigins = Get(TrackOrigins) == "yes",
                TraceEvents = Get(TraceEvents) == "yes",
                TraceChildrenSkip = Get(TraceChildrenSkip).Split(',', StringSplitOptions.RemoveEmptyEntries),
                Quiet = Get(Quiet) == "yes",
                Verbose = Get(Verbose) == "yes",
                LogFile = File(LogFile),
                TranslationCacheDirectory = File(TranslationCache),
                XmlPath = XmlFile(Get(Xml).Split('\n', StringSplitOptions.RemoveEmptyEntries)),
                SarifPath = File(Sarif),
                HtmlPath = File(Html),
                ErrorsForLeakKinds = Get(ErrorsForLeakKinds).Replace("none", "").Split(',', StringSplitOptions.RemoveEmptyEntries),
                SuppressionFiles = Get(Suppressions).Split('\n', StringSplitOptions.RemoveEmptyEntries),
                DefaultSuppressions = Get(DefaultSuppressions) == "yes",
                GenSuppressions = Get(GenSuppressions) == "all",
                GivenOptions = All.Where(spec => parse.GetResult(options[spec]) is not null)
                    .SelectMany(spec => spec.Repeatable ? Get(spec).Split('\n').Select(value => (spec, value)) : [(spec, Get(spec))]).ToArray(),
            };
        });
    }

    /// <summary>
    /// One row as a string-valued option whose parser checks and normalises the value. Every
    /// occurrence is accepted and the last counts, as under Valgrind (a wrapper script's default
    /// can be overridden).
    /// </summary>
    private static Option<string> Option(OptionSpec spec)
    {
        var option = new Option<string>(spec.Name, [.. spec.Aliases])
        {
            // No DefaultValueFactory: with one, a switch given alone would read as its default.
            Description = spec.Default.Length > 0 ? $"{spec.Help} [default: {spec.Default}]" : spec.Help,
            // A switch's value is never a separate word (`memcheck --stats yes` runs the program yes, as
            // under Valgrind): the help shows it after its '='.
            HelpName = spec.IsSwitch ? "=" + spec.ValueName : spec.ValueName,
            Arity = new ArgumentArity(spec.IsSwitch ? 0 : 1, 100_000),
            AllowMultipleArgumentsPerToken = false,
        };
        option.CustomParser = result => Parse(spec, result);
        return option;
    }

    private static string? Parse(OptionSpec spec, ArgumentResult result)
    {
        if (result.Tokens.Count == 0) return spec.IsSwitch ? "yes" : spec.Default;
        // Named as the user spelled it (--num-callers, not --callstack-max-frames).
        string name = (result.Parent as OptionResult)?.IdentifierToken?.Value ?? spec.Name;
        var values = new List<string>();
        foreach (Token token in spec.Repeatable ? result.Tokens : [result.Tokens[^1]])
        {
            string? value = spec.Value(token.Value);
            if (value == null || (spec.Repeatable && value.Contains('\n')))
            {
                result.AddError($"{name}: expected {spec.Expected}, got '{token.Value}'");
                return null;
            }
            values.Add(value);
        }
        // A repeatable option's values, one per line.
        return string.Join('\n', values);
    }

    private static string? Switch(string value) => value is "yes" or "no" ? value : null;

    /// <summary>
    /// --xml's values in order (--xml=yes, --xml-file=F, --xml=F): the last file named, unless the
    /// last value is 'no'; "yes" alone (no file) is <see cref="MemcheckSettings.XmlWithoutFile"/>.
    /// </summary>
    private static string? XmlFile(string[] values) =>
        values.Length == 0 || values[^1] == "no" ? null : values.LastOrDefault(v => v is not ("yes" or "no")) ?? MemcheckSettings.XmlWithoutFile;

    /// <summary>Values of a file option that are not file names (Valgrind's --xml=yes|no).</summary>
    internal static bool IsSwitchWord(string value) => value is "yes" or "no";

    private static readonly string[] LeakKindNames = ["definite", "indirect", "possible", "reachable"];

    /// <summary>Valgrind's leak-kind list: names from <see cref="LeakKindNames"/>, or all, or none; normalised to the names in order.</summary>
    private static string? LeakKinds(string given) => given switch
    {
        "all" => string.Join(',', LeakKindNames),
        "none" => "none",
        _ => given.Split(',') is var kinds && kinds.All(LeakKindNames.Contains) ? string.Join(',', LeakKindNames.Where(kinds.Contains)) : null,
    };

    private static Func<string, string?> Choice(params (string Given, string Means)[] values) =>
        given => values.FirstOrDefault(v => v.Given == given).Means;

    /// <summary>Decimal digits only, within [min, max] (no sign, no hex, no .NET number styles).</summary>
    private static Func<string, string?> Integer(long min, long max) => given =>
        given.Length is > 0 and <= 19 && given.All(char.IsAsciiDigit) && long.TryParse(given, out long n) && n >= min && n <= max
            ? n.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : null;
}

/// <summary>The parsed command line.</summary>
public sealed record MemcheckSettings(
    string Tool, bool Stats, string? JsonPath, int? ErrorExitCode, ulong? RedzoneSize, ulong DelayFreesBytes, int CallstackMaxFrames,
    string LeakCheck = "summary", bool ShowBelowMain = false)
{
    /// <summary>--delay-frees: at most this many freed blocks wait in quarantine.</summary>
    public ulong DelayFrees { get; init; } = Checker.MemcheckTool.MemcheckOptions.DefaultDelayFrees;
    /// <summary>-q: errors only, no summary or notes.</summary>
    public bool Quiet { get; init; }
    /// <summary>-v: options, suppression files and used suppressions are printed.</summary>
    public bool Verbose { get; init; }
    /// <summary>--log-file: where the text report goes instead of stderr (%p, %q{VAR} not yet expanded).</summary>
    public string? LogFile { get; init; }
    /// <summary>--translation-cache: where translations are kept across runs (null: not kept).</summary>
    public string? TranslationCacheDirectory { get; init; }
    /// <summary>What <see cref="XmlPath"/> is for --xml=yes without --xml-file (a usage error).</summary>
    public const string XmlWithoutFile = "";

    /// <summary>--xml: Valgrind's XML report (protocol 4).</summary>
    public string? XmlPath { get; init; }
    /// <summary>--sarif: the SARIF 2.1.0 report.</summary>
    public string? SarifPath { get; init; }
    /// <summary>--html: the self-contained HTML report.</summary>
    public string? HtmlPath { get; init; }
    /// <summary>--errors-for-leak-kinds: of definite, indirect, possible, reachable (none when empty).</summary>
    public IReadOnlyList<string> ErrorsForLeakKinds { get; init; } = ["definite", "possible"];
    /// <summary>--suppressions: Valgrind-format suppression files, in the order given.</summary>
    public IReadOnlyList<string> SuppressionFiles { get; init; } = [];
    /// <summary>--default-suppressions: the file shipped with memcheck is read first.</summary>
    public bool DefaultSuppressions { get; init; } = true;
    /// <summary>--gen-suppressions: a suppression block follows each error.</summary>
    public bool GenSuppressions { get; init; }

    /// <summary>--check-uninitialized: definedness is tracked and undefined values are reported where they matter.</summary>
    public bool CheckUninitialized { get; init; } = true;
    /// <summary>--track-origins: uninitialized reads name the heap block the value came from.</summary>
    public bool TrackOrigins { get; init; }
    /// <summary>--trace-events: the engine's events for the tool are printed.</summary>
    public bool TraceEvents { get; init; }
    /// <summary>--trace-children: exec'd programs run under memcheck too.</summary>
    public bool TraceChildren { get; init; } = true;
    /// <summary>--trace-children-skip: patterns of programs that run natively anyway.</summary>
    public IReadOnlyList<string> TraceChildrenSkip { get; init; } = [];
    /// <summary>The options given on the command line, with their checked values: what an exec'd program's memcheck is given again.</summary>
    public IReadOnlyList<(OptionSpec Spec, string Value)> GivenOptions { get; init; } = [];

    /// <summary>
    /// The given options in one canonical spelling each (<c>--name=value</c>), file names absolute
    /// (after <see cref="WithAbsolutePaths"/>):
    /// the command line of the memcheck that runs an exec'd program, whose working directory may differ.
    /// </summary>
    public IEnumerable<string> OptionArguments() => GivenOptions.Select(o =>
        $"{o.Spec.Name}={o.Value}");

    /// <summary>Each report file option and its file (null when not given).</summary>
    public IEnumerable<(string Option, string? File)> ReportFiles() =>
        [("--json", JsonPath), ("--xml", XmlPath), ("--sarif", SarifPath), ("--html", HtmlPath)];

    /// <summary>The settings with every file name absolute (as the working directory is now).</summary>
    public MemcheckSettings WithAbsolutePaths()
    {
        static string? Full(string? path) => path == null ? null : Path.GetFullPath(path);
        return this with
        {
            JsonPath = Full(JsonPath), XmlPath = Full(XmlPath), SarifPath = Full(SarifPath), HtmlPath = Full(HtmlPath),
            LogFile = Full(LogFile), TranslationCacheDirectory = Full(TranslationCacheDirectory), SuppressionFiles = SuppressionFiles.Select(Path.GetFullPath).ToArray(),
            GivenOptions = GivenOptions.Select(o => o.Spec.IsPath && !CommandLineOptions.IsSwitchWord(o.Value) ? (o.Spec, Path.GetFullPath(o.Value)) : o).ToArray(),
        };
    }

    public bool CheckHeap => Tool == "memcheck";
    public bool ScanForLeaks => CheckHeap && LeakCheck != "no";
    /// <summary>Leaks are errors (listed, counted, --error-exitcode) only with --leak-check=full.</summary>
    public bool LeaksAreErrors => LeakCheck == "full";
}
