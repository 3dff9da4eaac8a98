using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Programs memcheck cannot run, and command lines it cannot accept: the right exit status and
/// exactly one "memcheck: " line on stderr, never a .NET stack trace.
/// </summary>
public class BadInputTests
{
    private static void AssertOneLineError(RunResult result, int expectedExit, string? mentions = null)
    {
        var stderr = result.StderrText;
        var context = $"{result.CommandLine}\nexit {result.ExitCode}\nstderr:\n{stderr}";
        Assert.True(result.ExitCode == expectedExit, $"expected exit {expectedExit}: {context}");
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.True(stderr.Length > 0 && lines.Length == 1, $"expected exactly one stderr line: {context}");
        Assert.StartsWith(MemcheckLauncher.MessagePrefix, lines[0]);
        Assert.True(result.Stdout.Length == 0, $"expected nothing on stdout, got: {result.StdoutText}");
        if (mentions is not null)
            Assert.True(lines[0].Contains(mentions), $"the message should name {mentions}: {context}");
    }

    private static string CopyOfTrue(string name, Action<byte[]>? patch = null, int? length = null)
    {
        var dir = Scratch.NewDirectory("bad-input");
        var path = Path.Combine(dir, name);
        var bytes = File.ReadAllBytes("/bin/true");
        if (length is int n)
            bytes = bytes[..n];
        patch?.Invoke(bytes);
        File.WriteAllBytes(path, bytes);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                   UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                                   UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    /// <summary>Under ulimit -v memcheck cannot reserve its address space: one line that says so, exit 125.</summary>
    [Fact]
    public void VirtualMemoryLimit_OneLineThatNamesIt_Exits125()
    {
        var run = ProcessRunner.Run("bash", ["-c", $"ulimit -v 2000000; exec '{MemcheckLauncher.Executable}' -- /bin/true"]);
        Assert.True(run.ExitCode == 125, $"exit {run.ExitCode}\n{run.StderrText}");
        string[] lines = run.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, run.StderrText);
        Assert.Contains("ulimit -v", lines[0]);
    }

    [Fact]
    public void NonexistentProgramPath_Exits127()
    {
        var missing = Path.Combine(Scratch.NewDirectory("bad-input"), "no-such-program");
        AssertOneLineError(MemcheckLauncher.RunToolNone(missing, []), 127, mentions: missing);
    }

    [Fact]
    public void NonexistentProgramInPath_Exits127()
    {
        const string name = "checker-no-such-program-anywhere";
        AssertOneLineError(MemcheckLauncher.RunToolNone(name, []), 127, mentions: name);
    }

    [Fact]
    public void Directory_Exits126()
    {
        var dir = Scratch.NewDirectory("a-directory");
        AssertOneLineError(MemcheckLauncher.RunToolNone(dir, []), 126, mentions: dir);
    }

    [Fact]
    public void ExecutableTextFile_Exits126()
    {
        var path = Path.Combine(Scratch.NewDirectory("bad-input"), "notes.txt");
        File.WriteAllText(path, "this is a text file, not a program\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        AssertOneLineError(MemcheckLauncher.RunToolNone(path, []), 126, mentions: path);
    }

    [Fact]
    public void TruncatedElf_Exits126()
    {
        var path = CopyOfTrue("truncated", length: 100);
        AssertOneLineError(MemcheckLauncher.RunToolNone(path, []), 126, mentions: path);
    }

    [Fact]
    public void Elf32_Exits126()
    {
        var path = CopyOfTrue("elf32", bytes => { bytes[4] = 1; bytes[18] = 3; bytes[19] = 0; }); // ELFCLASS32, EM_386
        AssertOneLineError(MemcheckLauncher.RunToolNone(path, []), 126, mentions: path);
    }

    [Fact]
    public void ElfForAnotherMachine_Exits126()
    {
        var path = CopyOfTrue("aarch64", bytes => { bytes[18] = 183; bytes[19] = 0; }); // e_machine = EM_AARCH64
        AssertOneLineError(MemcheckLauncher.RunToolNone(path, []), 126, mentions: path);
    }

    [Fact]
    public void FileWithoutExecutePermission_Exits126()
    {
        var path = CopyOfTrue("not-executable");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        AssertOneLineError(MemcheckLauncher.RunToolNone(path, []), 126, mentions: path);
    }

    [Theory]
    [InlineData(new object[] { new[] { "--" } })]
    [InlineData(new object[] { new[] { "--tool", "none", "--" } })]
    public void NoProgramAfterDoubleDash_Exits2(string[] args)
    {
        AssertOneLineError(MemcheckLauncher.Run(args), 2);
    }

    [Fact]
    public void UnknownOption_Exits2()
    {
        AssertOneLineError(MemcheckLauncher.Run(["--no-such-option", "--", "/usr/bin/true"]), 2);
    }
}
