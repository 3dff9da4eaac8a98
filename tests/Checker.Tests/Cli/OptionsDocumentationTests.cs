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
    public void ReadmeUsageNamesEveryOption()
    {
        string readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        string usage = readme[readme.IndexOf("## Usage", StringComparison.Ordinal)..readme.IndexOf("## Exit codes", StringComparison.Ordinal)];
        foreach (string spelling in CommandLineOptions.All.SelectMany(o => o.Spellings))
            Assert.True(usage.Contains($"`{spelling}", StringComparison.Ordinal), $"README's usage section does not name {spelling}");
    }

    [Theory]
    [InlineData("--stats -- /bin/ls -l", "--stats", "/bin/ls -l")]
    [InlineData("--tool none ls --stats", "--tool none", "ls --stats")]
    [InlineData("--tool none --", "--tool none", "")]
    [InlineData("--stats", "--stats", "")]
    // Only the first "--" is memcheck's; a later one belongs to the program.
    [InlineData("-- git log -- README.md", "", "git log -- README.md")]
    [InlineData("--json x git log -- f", "--json x", "git log -- f")]
    [InlineData("--json=x --num-callers 5 git log -- f", "--json=x --num-callers 5", "git log -- f")]
    [InlineData("--show-below-main --leak-check yes prog", "--show-below-main --leak-check yes", "prog")]
    // A switch takes its value only with '=': the next word is the program.
    [InlineData("--show-below-main yes", "--show-below-main", "yes")]
    // "--json --" is a missing value, which the parser reports, not a file called "--".
    [InlineData("--json -- prog", "--json", "prog")]
    public void SplitsOptionsFromTheProgram(string args, string options, string command)
    {
        (string[] o, string[] c) = CommandLineOptions.SplitAtProgram(Words(args));
        Assert.Equal(Words(options), o);
        Assert.Equal(Words(command), c);
    }

    private static string[] Words(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
