using System.Text;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Reports.Html;

/// <summary>
/// Debian's chromium, headless, as a reader of memcheck's --html page: the DOM after the page's
/// script ran (--dump-dom), and a screenshot. Each run has its own profile (--user-data-dir) and
/// HOME in a fresh scratch directory and a time limit (the process tree is killed past it).
/// Chromium prints GPU and D-Bus complaints on stderr in a container: only its exit status and
/// its output count. .ci/run installs the package.
/// </summary>
internal static class HeadlessChromium
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);

    /// <summary>The page's DOM, serialized, after its scripts ran.</summary>
    public static string DumpDom(string htmlFile)
    {
        RunResult run = Run(htmlFile, ["--dump-dom"]);
        string dom = Encoding.UTF8.GetString(run.Stdout);
        Assert.True(dom.Contains("</html>", StringComparison.Ordinal), $"no DOM from {run.CommandLine}\nstderr:\n{run.StderrText}");
        return dom;
    }

    /// <summary>A PNG of the page's first <paramref name="width"/> x <paramref name="height"/> pixels.</summary>
    public static byte[] Screenshot(string htmlFile, int width, int height)
    {
        string png = Path.Combine(Scratch.NewDirectory("chromium-shot"), "page.png");
        RunResult run = Run(htmlFile, [$"--screenshot={png}", $"--window-size={width},{height}", "--hide-scrollbars"]);
        Assert.True(File.Exists(png), $"no screenshot from {run.CommandLine}\nstderr:\n{run.StderrText}");
        return File.ReadAllBytes(png);
    }

    private static RunResult Run(string htmlFile, string[] what)
    {
        string home = Scratch.NewDirectory("chromium");
        string[] args =
        [
            "--headless", "--disable-gpu", "--no-sandbox", $"--user-data-dir={Path.Combine(home, "profile")}",
            "--no-first-run", "--disable-extensions", "--disable-background-networking",
            .. what, new Uri(htmlFile).AbsoluteUri,
        ];
        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = home,
            ["XDG_CONFIG_HOME"] = Path.Combine(home, "config"),
            ["XDG_CACHE_HOME"] = Path.Combine(home, "cache"),
        };
        RunResult run;
        try
        {
            run = ProcessRunner.Run("chromium", args, environment: environment, workingDirectory: home, timeout: Limit);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException("cannot run chromium (Debian's chromium package; .ci/run installs it): " + e.Message, e);
        }
        Assert.True(run.ExitCode == 0, $"chromium exited with {run.ExitCode}: {run.CommandLine}\nstderr:\n{run.StderrText}");
        return run;
    }
}
