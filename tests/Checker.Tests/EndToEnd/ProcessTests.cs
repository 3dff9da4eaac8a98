using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Programs that create processes. The engine follows fork by continuing the guest in the
/// child, and execve runs the new program natively; either way the output and exit status must
/// match the native run.
/// </summary>
public class ProcessTests
{
    private static readonly Dictionary<string, string?> _cLocale = new()
    {
        ["LC_ALL"] = "C",
        ["TZ"] = "UTC",
    };

    [Fact]
    public void Sh_PipelineRedirectionAndExitStatus()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/bin/sh", ["-c", "echo hi | tr a-z A-Z; ls /nonexistent 2>/dev/null; echo st=$?"],
            environment: _cLocale);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal("HI\nst=2\n", native.StdoutText);
    }

    private const string PythonForkScript = """
        import os, subprocess, sys
        r = subprocess.run(['echo', 'sub'], capture_output=True)
        print('subprocess:', r.returncode, repr(r.stdout), repr(r.stderr))
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        waited, status = os.waitpid(pid, 0)
        print('waited for the child:', waited == pid)
        print('child exited:', os.WIFEXITED(status), 'status', os.WEXITSTATUS(status))
        """;

    [Fact]
    public void Python3_SubprocessRunAndForkWaitpid()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/python3", ["-I", "-B", "-c", PythonForkScript], environment: _cLocale);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal(
            "subprocess: 0 b'sub\\n' b''\nwaited for the child: True\nchild exited: True status 7\n",
            native.StdoutText);
    }

    [Fact]
    public void Find_ExecEchoOnGeneratedTree()
    {
        var dir = Scratch.NewDirectory("find-exec");
        foreach (var sub in new[] { "include", "include/sys", "src", "src/deep/er", "empty" })
            Directory.CreateDirectory(Path.Combine(dir, sub));
        foreach (var file in new[]
                 {
                     "include/a.h", "include/b.h", "include/sys/types.h", "include/notes.txt",
                     "src/main.c", "src/main.h", "src/deep/er/buried.h", "src/deep/er/buried.hpp", "top.h",
                 })
        {
            File.WriteAllText(Path.Combine(dir, file), file + "\n");
        }

        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/find", [dir, "-name", "*.h", "-exec", "echo", "found", "{}", ";"],
            environment: _cLocale,
            normalizeStdout: NativeComparison.SortLines);

        Assert.Equal(0, native.ExitCode);
        var sorted = NativeComparison.SortLines(native.Stdout);
        var expected = new[] { "include/a.h", "include/b.h", "include/sys/types.h", "src/deep/er/buried.h", "src/main.h", "top.h" }
            .Select(f => $"found {dir}/{f}\n");
        Assert.Equal(string.Concat(expected), System.Text.Encoding.UTF8.GetString(sorted));
    }

    [Fact]
    public void SystemAndPopen_FromACProgram()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(CaseBinaries.Get("system_popen"), []);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal(
            "before system\n" +
            "from-system\n" +
            "system: exited=1 status=0\n" +
            "system exit 5: exited=1 status=5\n" +
            "popen read: <popen>\n" +
            "pclose: lines=1 exited=1 status=0\n",
            native.StdoutText);
    }
}
