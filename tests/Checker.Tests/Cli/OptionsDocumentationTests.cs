using Checker.Memcheck;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Cli;

/// <summary>docs/options.md is generated from the options table; this keeps the two in step.</summary>
public class OptionsDocumentationTests
{
    [Fact]
    public void OptionsMarkdownMatchesTheTable()
    {
        string path = Path.Combine(RepoPaths.Root, "docs", "options.md");
        string expected = CommandLineOptions.MarkdownTable();
        if (Environment.GetEnvironmentVariable("CHECKER_REGENERATE_DOCS") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path) && File.ReadAllText(path) == expected,
            "docs/options.md is out of date: run the tests once with CHECKER_REGENERATE_DOCS=1");
    }

    [Fact]
    public void SplitsOptionsFromTheProgram()
    {
        Assert.Equal((["--stats"], ["/bin/ls", "-l"]), Split("--stats", "--", "/bin/ls", "-l"));
        Assert.Equal((["--tool", "none"], ["ls", "--stats"]), Split("--tool", "none", "ls", "--stats"));
        Assert.Equal((["--tool", "none"], []), Split("--tool", "none", "--"));
    }

    private static (string[], string[]) Split(params string[] args) => CommandLineOptions.SplitAtProgram(args);
}
