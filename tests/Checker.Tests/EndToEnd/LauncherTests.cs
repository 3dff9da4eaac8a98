using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// The ./memcheck launcher: it works through a symlink in PATH, says in one line when it builds,
/// and says what to install when the .NET 10 SDK is missing. The build tests run a copy of the
/// script in a scratch directory (so the repository's own build is never touched) with a PATH of
/// chosen tools, and a stand-in dotnet where a build must "succeed".
/// </summary>
public class LauncherTests
{
    // What the launcher itself runs, besides bash and dotnet.
    private static readonly string[] Tools = ["bash", "readlink", "dirname", "mkdir", "flock", "find", "cat", "mv", "rm"];

    /// <summary>A scratch copy of the launcher (DIR/memcheck, DIR/src) and a bin directory holding only <see cref="Tools"/>.</summary>
    private static (string Launcher, string Bin) CopyOfLauncher()
    {
        string directory = Scratch.NewDirectory("launcher");
        string launcher = Path.Combine(directory, "memcheck");
        File.Copy(RepoPaths.Launcher, launcher);
        Directory.CreateDirectory(Path.Combine(directory, "src", "Memcheck"));
        File.WriteAllText(Path.Combine(directory, "src", "Memcheck", "Program.cs"), "// stands in for the sources\n");
        string bin = Path.Combine(directory, "bin");
        Directory.CreateDirectory(bin);
        foreach (string tool in Tools)
        {
            string? path = new[] { "/usr/bin", "/bin" }.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
            Assert.True(path != null, $"{tool} not found");
            File.CreateSymbolicLink(Path.Combine(bin, tool), path!);
        }
        return (launcher, bin);
    }

    /// <summary>A stand-in dotnet: lists the given SDK, and "publishes" a memcheck that prints its arguments.</summary>
    private static void FakeDotnet(string bin, string sdkVersion)
    {
        string dotnet = Path.Combine(bin, "dotnet");
        File.WriteAllText(dotnet, $$"""
            #!/bin/bash
            if [[ "$1" == --list-sdks ]]; then echo "{{sdkVersion}} [/opt/dotnet/sdk]"; exit 0; fi
            out=""
            while (($#)); do [[ "$1" == -o ]] && out="$2"; shift; done
            /bin/mkdir -p "$out"
            printf '#!/bin/sh\necho "fake memcheck $*"\n' > "$out/memcheck"
            /bin/chmod +x "$out/memcheck"
            """);
        File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static RunResult RunWithPath(string launcher, string path, params string[] args) =>
        ProcessRunner.Run(launcher, args, environment: new Dictionary<string, string?> { ["PATH"] = path });

    private static string Context(RunResult r) => $"{r.CommandLine}\nexit {r.ExitCode}\nstdout:\n{r.StdoutText}\nstderr:\n{r.StderrText}";

    [Fact]
    public void WorksWhenSymlinkedIntoPath()
    {
        string launcher = MemcheckLauncher.Executable; // built and up to date
        string directory = Scratch.NewDirectory("path-dir");
        File.CreateSymbolicLink(Path.Combine(directory, "memcheck"), launcher);
        string path = $"{directory}:{Environment.GetEnvironmentVariable("PATH")}";

        RunResult result = ProcessRunner.Run("/bin/sh", ["-c", "memcheck --tool none -- /bin/echo through the link"],
            environment: new Dictionary<string, string?> { ["PATH"] = path }, workingDirectory: directory);

        Assert.True(result.ExitCode == 0 && result.StdoutText == "through the link\n" && result.Stderr.Length == 0, Context(result));
        Assert.False(Directory.Exists(Path.Combine(directory, ".build")), "the launcher looked for the repository next to the link");
    }

    [Fact]
    public void WithoutDotnetItSaysWhatToInstall()
    {
        (string launcher, string bin) = CopyOfLauncher();
        RunResult result = RunWithPath(launcher, bin, "--version");

        string[] lines = result.StderrText.TrimEnd('\n').Split('\n');
        Assert.True(result.ExitCode == 125 && lines.Length == 1, Context(result));
        Assert.StartsWith("memcheck: ", lines[0]);
        Assert.Contains(".NET 10 SDK", lines[0]);
        Assert.Contains("'dotnet' is not on PATH", lines[0]);
        Assert.Contains("dotnet-sdk-10.0", lines[0]);
    }

    [Fact]
    public void WithAnotherSdkItSaysWhatToInstall()
    {
        (string launcher, string bin) = CopyOfLauncher();
        FakeDotnet(bin, "8.0.404");
        RunResult result = RunWithPath(launcher, bin, "--version");

        string[] lines = result.StderrText.TrimEnd('\n').Split('\n');
        Assert.True(result.ExitCode == 125 && lines.Length == 1, Context(result));
        Assert.Contains("needs the .NET 10 SDK", lines[0]);
        Assert.Contains("dotnet-sdk-10.0", lines[0]);
    }

    [Fact]
    public void ItSaysSoOnlyWhenItBuilds()
    {
        (string launcher, string bin) = CopyOfLauncher();
        FakeDotnet(bin, "10.0.100");

        RunResult first = RunWithPath(launcher, bin, "--version");
        Assert.True(first.ExitCode == 0 && first.StdoutText == "fake memcheck --version\n", Context(first));
        Assert.Equal("memcheck: building memcheck (first run, about 30 s)\n", first.StderrText);

        RunResult second = RunWithPath(launcher, bin, "--version");
        Assert.True(second.ExitCode == 0 && second.StdoutText == "fake memcheck --version\n", Context(second));
        Assert.True(second.Stderr.Length == 0, Context(second));

        File.SetLastWriteTimeUtc(Path.Combine(Path.GetDirectoryName(launcher)!, "src", "Memcheck", "Program.cs"), DateTime.UtcNow.AddMinutes(1));
        RunResult third = RunWithPath(launcher, bin, "--version");
        Assert.True(third.ExitCode == 0, Context(third));
        Assert.Equal("memcheck: rebuilding memcheck (sources changed, about 30 s)\n", third.StderrText);
    }
}
