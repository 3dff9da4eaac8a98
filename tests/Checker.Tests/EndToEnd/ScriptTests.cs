using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// A <c>#!</c> script runs its interpreter under memcheck, as the kernel's binfmt_script would run
/// it (argv, AT_EXECFN, /proc/self/exe, nesting and its limit, the errors), and the interpreter is
/// what gets checked.
/// </summary>
public class ScriptTests
{
    private static string Script(string directory, string name, string text)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static string Context(RunResult run) => $"{run.CommandLine}\nstdout:\n{run.StdoutText}\nstderr:\n{run.StderrText}";

    [Fact]
    public void AShellScriptRunsUnderItsInterpreter()
    {
        string script = Script(Scratch.NewDirectory("script-sh"), "greet", "#!/bin/sh\necho \"$0 says: $*\"\nexit 3\n");
        var (native, _) = NativeComparison.AssertSameBehaviour(script, ["a", "b c"]);
        Assert.Equal(3, native.ExitCode);
        Assert.Equal($"{script} says: a b c\n", native.StdoutText);

        // Checked: the shell runs clean, its status is the script's.
        RunResult run = MemcheckLauncher.Run(["--", script, "a", "b c"]);
        Assert.True(run.ExitCode == 3 && run.StdoutText == native.StdoutText, Context(run));
        Assert.Contains("NO ERRORS FOUND:", run.StderrText);
    }

    [Fact]
    public void AnEnvPython3ScriptRuns()
    {
        string script = Script(Scratch.NewDirectory("script-py"), "hello.py", "#!/usr/bin/env python3\nimport sys\nprint('python says', sys.argv[1:])\n");
        var (native, _) = NativeComparison.AssertSameBehaviour(script, ["x", "y"]);
        Assert.Equal(0, native.ExitCode);
        Assert.Equal("python says ['x', 'y']\n", native.StdoutText);
    }

    [Fact]
    public void TheBugOfAnInterpreterRunningAScriptIsReportedWithItsLine()
    {
        string interpreter = CaseBinaries.Get("script_interpreter");
        string script = Script(Scratch.NewDirectory("script-bug"), "buggy-script", $"#!{interpreter} -v\n# a comment\nhello\n");
        string resolved = new FileInfo(interpreter).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? interpreter;
        var (native, _) = NativeComparison.AssertSameBehaviour(script, ["arg"]);
        Assert.Equal(0, native.ExitCode);
        Assert.Equal(
            $"argv[0]={interpreter}\nargv[1]=-v\nargv[2]={script}\nargv[3]=arg\nexe={resolved}\nexecfn={script}\nscript: hello\n",
            native.StdoutText);

        string json = Path.Combine(Scratch.NewDirectory("script-bug-json"), "report.json");
        RunResult run = MemcheckLauncher.Run(["--json", json, "--", script, "arg"]);
        string context = Context(run);
        Assert.True(run.ExitCode == 0 && run.StdoutText == native.StdoutText, context);
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(json));
        var error = Assert.Single(document.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        MemcheckJson.AssertFrame(error.GetProperty("stack")[0], "echo_line", "script_interpreter.c", MemcheckJson.Line("script_interpreter.c", "LINE_INTERPRETER_BUG"), context);
        MemcheckJson.AssertFrame(error.GetProperty("block").GetProperty("alloc_stack")[0], "echo_line", "script_interpreter.c",
            MemcheckJson.Line("script_interpreter.c", "LINE_INTERPRETER_ALLOC"), context);
    }

    [Fact]
    public void ScriptsMayNameScriptsFiveDeepAsTheKernelAllows()
    {
        string interpreter = CaseBinaries.Get("script_interpreter");
        string directory = Scratch.NewDirectory("script-nested");
        string previous = interpreter;
        var scripts = new List<string>();
        for (int level = 1; level <= 6; level++)
        {
            previous = Script(directory, $"level{level}", $"#!{previous} -level{level}\nline {level}\n");
            scripts.Add(previous);
        }

        // Five scripts: each level puts its interpreter, argument and path in front.
        var (native, memcheck) = NativeComparison.AssertSameBehaviour(scripts[4], ["end"]);
        Assert.Equal(0, native.ExitCode);
        Assert.StartsWith($"argv[0]={interpreter}\nargv[1]=-level1\nargv[2]={scripts[0]}\nargv[3]=-level2\n", memcheck.StdoutText);
        Assert.Contains($"argv[10]={scripts[4]}\nargv[11]=end\n", memcheck.StdoutText);

        // Six: ELOOP natively (a shell's 126).
        RunResult tooDeep = MemcheckLauncher.Run(["--", scripts[5]]);
        Assert.True(tooDeep.ExitCode == 126, Context(tooDeep));
        Assert.Contains($"memcheck: {scripts[5]}: too many levels of #! interpreters", tooDeep.StderrText);
    }

    [Fact]
    public void ABadInterpreterFailsAsTheExecWould()
    {
        string directory = Scratch.NewDirectory("script-bad");
        string missing = Script(directory, "missing", "#!/nonexistent/interpreter\n");
        string crlf = Script(directory, "crlf", "#!/bin/sh\r\necho hi\r\n");
        string empty = Script(directory, "empty", "#!   \n");

        RunResult run = MemcheckLauncher.Run(["--", missing]);
        Assert.True(run.ExitCode == 127, Context(run));
        Assert.Contains($"memcheck: {missing}: bad interpreter /nonexistent/interpreter: no such file or directory", run.StderrText);

        // The kernel keeps the carriage return in the name: "/bin/sh\r" does not exist.
        run = MemcheckLauncher.Run(["--", crlf]);
        Assert.True(run.ExitCode == 127, Context(run));

        run = MemcheckLauncher.Run(["--", empty]);
        Assert.True(run.ExitCode == 126, Context(run));
        Assert.Contains("exec format error", run.StderrText);
    }
}
