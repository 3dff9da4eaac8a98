using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// docs/ci.md's jobs work as written: the commands of the steps it marks "(tested)" are taken out
/// of its GitHub Actions and GitLab CI YAML and run, with <c>memcheck</c> on PATH, in a checkout
/// holding a test program: with an error the job fails (exit 1) and without one it passes, and
/// every file the job uploads as an artifact exists and is what it claims to be.
/// </summary>
public class CiRecipeTests
{
    private const string Broken = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        int main(void)
        {
            char *name = malloc(8);
            strcpy(name, "overflow"); /* one byte beyond the block */
            puts(name);
            free(name);
            return 0;
        }
        """;

    private const string Fixed = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        int main(void)
        {
            char *name = malloc(9);
            strcpy(name, "overflow");
            puts(name);
            free(name);
            return 0;
        }
        """;

    // A real suppression that matches nothing in these programs: the file must parse.
    private const string Suppressions = """
        {
           third-party-init-reads-padding
           Memcheck:Cond
           fun:thirdparty_init
           ...
           obj:*/libthirdparty.so*
        }
        """;

    private static string Document => File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "ci.md"));

    /// <summary>The YAML block that follows the heading starting with <paramref name="heading"/>.</summary>
    private static string[] YamlAfter(string heading)
    {
        string text = Document;
        int at = text.IndexOf("## " + heading, StringComparison.Ordinal);
        Assert.True(at >= 0, $"docs/ci.md has no heading {heading}");
        int start = text.IndexOf("```yaml\n", at, StringComparison.Ordinal) + "```yaml\n".Length;
        int end = text.IndexOf("```", start, StringComparison.Ordinal);
        return text[start..end].Split('\n');
    }

    private static int Indent(string line) => line.Length - line.TrimStart().Length;

    /// <summary>The lines of a block scalar or list under <paramref name="key"/> at <paramref name="index"/> (more indented than it).</summary>
    private static IEnumerable<string> Below(string[] lines, int index)
    {
        int indent = Indent(lines[index]);
        for (int i = index + 1; i < lines.Length && (lines[i].Trim().Length == 0 || Indent(lines[i]) > indent); i++)
            if (lines[i].Trim().Length > 0) yield return lines[i].Trim();
    }

    /// <summary>GitHub Actions: the run: commands of the steps named "... (tested)", and the uploaded paths.</summary>
    private static (string Script, string[] Artifacts) GitHubJob()
    {
        string[] lines = YamlAfter("GitHub Actions");
        var commands = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!Regex.IsMatch(lines[i], @"^\s*- name: .*\(tested\)\s*$")) continue;
            int run = Array.FindIndex(lines, i + 1, l => l.TrimStart().StartsWith("run:", StringComparison.Ordinal));
            string value = lines[run].Trim()["run:".Length..].Trim();
            commands.Add(value == "|" ? string.Join('\n', Below(lines, run)) : value);
        }
        Assert.True(commands.Count >= 2, "docs/ci.md's GitHub job marks no steps (tested)");
        int upload = Array.FindIndex(lines, l => l.Trim() == "path: |");
        return (string.Join('\n', commands), Below(lines, upload).ToArray());
    }

    /// <summary>GitLab CI: the script: list marked (tested), and artifacts: paths:.</summary>
    private static (string Script, string[] Artifacts) GitLabJob()
    {
        string[] lines = YamlAfter("GitLab CI");
        int script = Array.FindIndex(lines, l => l.Trim().StartsWith("script:", StringComparison.Ordinal) && l.Contains("(tested)"));
        int paths = Array.FindIndex(lines, l => l.Trim() == "paths:");
        static string Item(string line) => line.StartsWith("- ", StringComparison.Ordinal) ? line[2..] : line;
        return (string.Join('\n', Below(lines, script).Select(Item)), Below(lines, paths).Select(Item).ToArray());
    }

    /// <summary>A checkout with tests/unit.c and ci/memcheck.supp; the job's script run there by bash -e with memcheck on PATH.</summary>
    private static (RunResult Run, string Checkout) RunJob(string script, string program)
    {
        string checkout = Scratch.NewDirectory("ci-job");
        Directory.CreateDirectory(Path.Combine(checkout, "tests"));
        Directory.CreateDirectory(Path.Combine(checkout, "ci"));
        File.WriteAllText(Path.Combine(checkout, "tests", "unit.c"), program);
        File.WriteAllText(Path.Combine(checkout, "ci", "memcheck.supp"), Suppressions);
        string bin = Path.Combine(checkout, ".bin");
        Directory.CreateDirectory(bin);
        File.CreateSymbolicLink(Path.Combine(bin, "memcheck"), MemcheckLauncher.Executable);
        RunResult run = ProcessRunner.Run("bash", ["-e", "-c", script],
            environment: new Dictionary<string, string?> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}", ["MEMCHECK_OPTIONS"] = null },
            workingDirectory: checkout);
        return (run, checkout);
    }

    public static TheoryData<string> Jobs => new() { "github", "gitlab" };

    [Theory]
    [MemberData(nameof(Jobs))]
    public void AnErrorFailsTheJobAndEveryArtifactIsWritten(string job)
    {
        (string script, string[] artifacts) = job == "github" ? GitHubJob() : GitLabJob();
        (RunResult run, string checkout) = RunJob(script, Broken);
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}\n{script}\n{run.StderrText}");
        Assert.NotEmpty(artifacts);
        foreach (string artifact in artifacts)
        {
            string path = Path.Combine(checkout, artifact);
            Assert.True(File.Exists(path) && new FileInfo(path).Length > 0, $"{artifact} was not written\n{run.StderrText}");
        }
        AssertReportsNameTheOverflow(checkout, artifacts);
    }

    [Theory]
    [MemberData(nameof(Jobs))]
    public void WithoutAnErrorTheJobPasses(string job)
    {
        (string script, string[] artifacts) = job == "github" ? GitHubJob() : GitLabJob();
        (RunResult run, string checkout) = RunJob(script, Fixed);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{script}\n{run.StderrText}");
        foreach (string artifact in artifacts) Assert.True(File.Exists(Path.Combine(checkout, artifact)), $"{artifact} was not written");
        if (artifacts.Contains("memcheck.log")) Assert.Contains("NO ERRORS FOUND", File.ReadAllText(Path.Combine(checkout, "memcheck.log")));
    }

    private static void AssertReportsNameTheOverflow(string checkout, string[] artifacts)
    {
        foreach (string artifact in artifacts)
        {
            string text = File.ReadAllText(Path.Combine(checkout, artifact));
            switch (Path.GetExtension(artifact))
            {
                case ".log":
                    Assert.Contains("UNADDRESSABLE ACCESS", text);
                    Assert.Contains("unit.c:7]", text);
                    break;
                case ".sarif":
                    using (JsonDocument sarif = JsonDocument.Parse(text))
                    {
                        Assert.Equal("2.1.0", sarif.RootElement.GetProperty("version").GetString());
                        JsonElement result = sarif.RootElement.GetProperty("runs")[0].GetProperty("results")[0];
                        JsonElement location = result.GetProperty("locations")[0].GetProperty("physicalLocation");
                        Assert.EndsWith("tests/unit.c", location.GetProperty("artifactLocation").GetProperty("uri").GetString());
                        Assert.Equal(7, location.GetProperty("region").GetProperty("startLine").GetInt32());
                    }
                    break;
                case ".xml":
                    var xml = System.Xml.Linq.XDocument.Parse(text);
                    Assert.Contains(xml.Descendants("error"), e => e.Element("kind")?.Value == "InvalidWrite");
                    break;
                case ".html":
                    Assert.Contains("unit.c", text);
                    break;
            }
        }
    }
}
