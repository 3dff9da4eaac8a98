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
    public static readonly OptionSpec Tool = new("--tool", "NAME", "none",
        "What to run: 'none' translates and runs the program with no checking; 'memcheck' replaces the malloc family with the checking allocator and reports invalid heap arguments (double, invalid and mismatched frees); access checks come next.");
    public static readonly OptionSpec Stats = new("--stats", "", "off",
        "Print engine statistics at exit: fragments, code-cache bytes, dispatcher entries, links, indirect lookups and misses, syscalls, translation time.");

    public static readonly IReadOnlyList<OptionSpec> All = [Tool, Stats];

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

    public static (Option<string> Tool, Option<bool> Stats) Build()
    {
        var tool = new Option<string>(Tool.Name)
        {
            Description = Tool.Help,
            HelpName = Tool.ValueName,
            DefaultValueFactory = _ => Tool.Default,
        };
        tool.AcceptOnlyFromAmong(Tools);
        var stats = new Option<bool>(Stats.Name) { Description = Stats.Help };
        return (tool, stats);
    }
}
