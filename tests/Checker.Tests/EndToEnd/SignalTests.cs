using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Programs that die of a signal, or that handle or ignore signals. A guest killed by a signal
/// must kill memcheck with the same signal, so whoever waits for memcheck sees what it would
/// have seen natively.
/// </summary>
/// <remarks>
/// .NET reports a process killed by signal N as ExitCode 128+N, which is also what a shell's $?
/// shows, and which an exit(128+N) would look like too. Where the difference matters the
/// program is also run under the wait_status helper (tests/cases/wait_status.c), which reports
/// on stderr "exited N" or "killed by signal N" from the real wait status.
/// </remarks>
public class SignalTests
{
    private const int SIGILL = 4;
    private const int SIGABRT = 6;
    private const int SIGSEGV = 11;
    private const int SIGPIPE = 13;

    /// <summary>How many times the memcheck run is repeated under wait_status: how memcheck passes
    /// on the guest's death must not depend on timing, and a race shows up only now and then.</summary>
    private const int DeathRepeats = 30;

    /// <summary>
    /// Runs PROGRAM natively and (<see cref="DeathRepeats"/> times) under memcheck --tool none,
    /// all under the wait_status helper, and asserts every run ended the same way: killed by
    /// <paramref name="signal"/>.
    /// </summary>
    private static void AssertKilledBySignalLikeNative(string program, int signal)
    {
        var native = ProcessRunner.Run(CaseBinaries.WaitStatus, [program]);
        Assert.Contains($"wait_status: killed by signal {signal} (", native.StderrText);

        var outcomes = new Dictionary<string, int>();
        RunResult? firstDifferent = null;
        for (int i = 0; i < DeathRepeats; i++)
        {
            var memcheck = ProcessRunner.Run(
                CaseBinaries.WaitStatus, [MemcheckLauncher.Executable, "--tool", "none", "--", program]);
            var report = Encoding.UTF8.GetString(NativeComparison.WithoutMemcheckLines(memcheck.Stderr)).TrimEnd('\n');
            outcomes[report] = outcomes.GetValueOrDefault(report) + 1;
            bool same = memcheck.Stdout.AsSpan().SequenceEqual(native.Stdout) &&
                        NativeComparison.WithoutMemcheckLines(memcheck.Stderr).AsSpan().SequenceEqual(native.Stderr);
            if (!same)
                firstDifferent ??= memcheck;
        }
        if (firstDifferent is not null)
        {
            Assert.Fail(
                $"native: {native.StderrText.TrimEnd('\n')}; under memcheck, {DeathRepeats} runs ended: " +
                string.Join(", ", outcomes.Select(o => $"{o.Value} x <{o.Key.Replace("\n", " | ")}>")) + "\n" +
                $"first different run: {firstDifferent.CommandLine}\nstdout:\n{firstDifferent.StdoutText}\nstderr:\n{firstDifferent.StderrText}");
        }
    }

    private static string MemcheckLineMentioning(RunResult result, string word)
    {
        var lines = NativeComparison.MemcheckLines(result.Stderr);
        var matching = lines.Where(l => l.Contains(word, StringComparison.Ordinal)).ToList();
        Assert.True(matching.Count == 1,
            $"expected exactly one 'memcheck: ' line mentioning {word}, found {matching.Count}; stderr was:\n{result.StderrText}");
        Assert.DoesNotContain("   at ", result.StderrText);
        Assert.DoesNotContain("Unhandled exception", result.StderrText);
        return matching[0];
    }

    // The test host runs its children with SIGPIPE ignored (the .NET runtime ignores it, and an
    // ignored disposition survives execve), under which yes gets EPIPE, complains and exits 1
    // instead of dying. env --default-signal / --ignore-signal (coreutils) set the disposition
    // explicitly, so these tests don't depend on what the host passes down.
    private const string Env = "/usr/bin/env";
    private const string DefaultSigpipe = "--default-signal=PIPE";
    private const string IgnoreSigpipe = "--ignore-signal=PIPE";

    /// <summary>bash reports how the first command of the pipeline ended after head has read two lines and exited.</summary>
    private const string YesIntoHeadScript = "\"$@\" | head -n 2; echo \"status=${PIPESTATUS[0]}\"";

    [Fact]
    public void Yes_IntoAPipeClosedEarly_DiesOfSigpipeLikeNative()
    {
        var native = ProcessRunner.Run(Env, [DefaultSigpipe, "/bin/bash", "-c", YesIntoHeadScript, "bash", "/usr/bin/yes"]);
        var memcheck = ProcessRunner.Run(Env,
            [DefaultSigpipe, "/bin/bash", "-c", YesIntoHeadScript, "bash", MemcheckLauncher.Executable, "--tool", "none", "--", "/usr/bin/yes"]);

        NativeComparison.AssertSame(native, memcheck);
        Assert.Equal("y\ny\nstatus=141\n", native.StdoutText);

        // And it really was the signal, not an exit(141).
        const string script = "\"$@\" | head -n 2";
        var nativeExact = ProcessRunner.Run(Env,
            [DefaultSigpipe, "/bin/sh", "-c", script, "sh", CaseBinaries.WaitStatus, "/usr/bin/yes"]);
        var memcheckExact = ProcessRunner.Run(Env,
            [DefaultSigpipe, "/bin/sh", "-c", script, "sh", CaseBinaries.WaitStatus, MemcheckLauncher.Executable, "--tool", "none", "--", "/usr/bin/yes"]);
        NativeComparison.AssertSame(nativeExact, memcheckExact);
        Assert.Contains($"wait_status: killed by signal {SIGPIPE} (", nativeExact.StderrText);
    }

    [Fact]
    public void Yes_WithSigpipeIgnoredOnEntry_GetsEpipeAndExits1LikeNative()
    {
        // A disposition of SIG_IGN inherited across execve is the guest's starting disposition:
        // yes must see EPIPE, not be killed.
        var native = ProcessRunner.Run(Env, [IgnoreSigpipe, "/bin/bash", "-c", YesIntoHeadScript, "bash", "/usr/bin/yes"]);
        var memcheck = ProcessRunner.Run(Env,
            [IgnoreSigpipe, "/bin/bash", "-c", YesIntoHeadScript, "bash", MemcheckLauncher.Executable, "--tool", "none", "--", "/usr/bin/yes"]);

        NativeComparison.AssertSame(native, memcheck);
        Assert.Equal("y\ny\nstatus=1\n", native.StdoutText);
        Assert.Contains("Broken pipe", native.StderrText);
    }

    [Fact]
    public async Task Yes_ReaderClosesStdoutThroughProcessApi_ExitCode141()
    {
        // env execs memcheck in the same process, so this is memcheck's own exit status.
        var psi = new ProcessStartInfo(Env)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { DefaultSigpipe, MemcheckLauncher.Executable, "--tool", "none", "--", "/usr/bin/yes" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            Assert.Equal("y", await process.StandardOutput.ReadLineAsync(timeout.Token));
            Assert.Equal("y", await process.StandardOutput.ReadLineAsync(timeout.Token));
            process.StandardOutput.Close();
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("memcheck -- yes kept running for 30 s after its stdout reader closed the pipe");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        var stderr = await stderrTask.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(process.ExitCode == 128 + SIGPIPE,
            $"expected death by SIGPIPE (exit code {128 + SIGPIPE}), got {process.ExitCode}; stderr:\n{stderr}");
    }

    [Fact]
    public void Abort_AfterOutput_DiesOfSigabrtLikeNative()
    {
        var program = CaseBinaries.Get("abort_after_output");
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);

        Assert.Equal(128 + SIGABRT, native.ExitCode);
        Assert.Equal("before abort\n", native.StdoutText);
        AssertKilledBySignalLikeNative(program, SIGABRT);
    }

    /// <summary>
    /// pidfd_send_signal to the process's own pidfd runs its handler before the call returns, with
    /// the kernel's siginfo (SI_USER from itself, or the SI_QUEUE value given), under both tools as
    /// natively; passed to the kernel, the signal reached the handler later.
    /// </summary>
    [Fact]
    public void PidfdSendSignalToItself_IsHandledBeforeTheCallReturns()
    {
        var program = CaseBinaries.Get("pidfd_self_signal");
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Equal("plain: result 0, handled 1, SI_USER 1, from self 1\nqueued: result 0, handled 2, SI_QUEUE 1, value 42\n", native.StdoutText);
        NativeComparison.AssertSame(native, MemcheckLauncher.Run(["--", program]));
    }

    [Fact]
    public void NullDereference_DiesOfSigsegvWithAMessageNamingThePc()
    {
        var program = CaseBinaries.Get("null_deref");
        var (native, memcheck) = NativeComparison.AssertSameBehaviour(program, []);

        Assert.Equal(128 + SIGSEGV, native.ExitCode);
        Assert.Equal("before null dereference\n", native.StdoutText);
        var line = MemcheckLineMentioning(memcheck, "SIGSEGV");
        // The faulting pc: a code address, so not just the 0x0 that was accessed.
        var addresses = Regex.Matches(line, @"0x([0-9a-fA-F]+)").Select(m => Convert.ToUInt64(m.Groups[1].Value, 16));
        Assert.True(addresses.Any(a => a >= 0x1000),
            $"the SIGSEGV message should give the faulting pc as 0x...: {line}");
        AssertKilledBySignalLikeNative(program, SIGSEGV);
    }

    [Fact]
    public void BuiltinTrap_DiesOfSigillWithAMessage()
    {
        var program = CaseBinaries.Get("trap");
        var (native, memcheck) = NativeComparison.AssertSameBehaviour(program, []);

        Assert.Equal(128 + SIGILL, native.ExitCode);
        Assert.Equal("before trap\n", native.StdoutText);
        MemcheckLineMentioning(memcheck, "SIGILL");
        AssertKilledBySignalLikeNative(program, SIGILL);
    }

    [Fact]
    public void InstalledButNeverDeliveredSignals_WriteToClosedPipeGivesEpipe()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(CaseBinaries.Get("ignored_signals_epipe"), []);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal(
            "SIGPIPE disposition reads back as SIG_IGN: 1\n" +
            "SIGINT disposition reads back as the handler: 1\n" +
            "write to closed pipe: returned -1, errno EPIPE (Broken pipe)\n" +
            "interrupts handled: 0\n",
            native.StdoutText);
    }
}
