using System.Runtime.Versioning;
using Checker.Engine;
using Checker.Engine.Delivery;
using Checker.Engine.Dispatch;
using Checker.Engine.State;
using Checker.Engine.Syscalls;

namespace Checker.Memcheck;

/// <summary>
/// Signals from outside for the program. The kernel hands process-directed signals to one of memcheck's
/// own threads (guest threads block them all), and this decides: a signal the program has a
/// handler for, or blocks in every thread, is queued for it (<see cref="Checker.Engine.Delivery.SignalDelivery"/>);
/// one whose default action ends the process (SIGTERM, SIGINT from a terminal, SIGHUP, SIGQUIT,
/// SIGALRM of alarm(), SIGUSR1, real-time signals...) ends it with the summary, the leak check and
/// the JSON, then the death by that signal, as the program would die (every guest thread stopped
/// first: <see cref="GuestRun.EndProcess"/>). Ignored signals stay with the kernel (SIG_IGN is passed
/// down); SIGCHLD, SIGCONT, SIGURG and SIGWINCH are only forwarded to a handler; SIGTSTP, SIGTTIN
/// and SIGTTOU go to a handler or stop the process. The signals arrive through
/// <see cref="SignalListener"/>.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class TerminationSignals
{
    // Default action "terminate" (or "core"), asynchronous: not the faults, not SIGPIPE (raised
    // for the writer itself, see SyscallEmulator), not SIGRTMIN (the runtime's), 32/33 (glibc's)
    // or 64 (the engine's kick). 63 is the nudge's (Nudge), the program's without its payload.
    private static readonly int[] Terminating =
        [1, 2, 3, 10, 12, 14, 15, 16, 24, 25, 26, 27, 29, 30, .. Enumerable.Range(35, 28), Nudge.Signal];

    // Ignored by default: only forwarded to the program's handler (SIGCHLD, SIGCONT, SIGURG, SIGWINCH;
    // SIGCONT has continued the process in the kernel already).
    private static readonly int[] IgnoredByDefault = [17, 18, 23, 28];

    // Job control (SIGTSTP, SIGTTIN, SIGTTOU): a program's handler runs (a shell's, an editor's that
    // resets the terminal and raises it again); the default action stops memcheck's whole process.
    private static readonly int[] StoppingByDefault = [20, 21, 22];

    /// <summary>The signals memcheck takes from the kernel for the program (<see cref="SignalListener"/>).</summary>
    public static IEnumerable<int> Forwarded => Terminating.Concat(IgnoredByDefault).Concat(StoppingByDefault);

    private readonly GuestRun _run;
    private readonly ReportSession _reports;
    private readonly MemcheckSettings _settings;
    private int _handling;

    public TerminationSignals(GuestRun run, ReportSession reports, MemcheckSettings settings)
    {
        _run = run;
        _reports = reports;
        _settings = settings;
    }

    /// <summary>A signal from outside for the program, with the kernel's siginfo for it (128 bytes).</summary>
    public void Forward(int signal, ReadOnlySpan<byte> siginfo)
    {
        // The decision reads the thread list and queues the signal under their locks: not across a
        // fork, whose child would inherit them held (ForkGate). Ending the process stops every guest
        // thread, a forking one too, so it runs outside.
        ForkGate gate = _run.Process.ForkGate;
        bool forwarded, stop;
        gate.EnterHostWork();
        try
        {
            forwarded = ForwardToProgram(signal, siginfo, out stop);
        }
        finally
        {
            gate.ExitHostWork();
        }
        if (stop)
        {
            StopWithTheDefaultAction(signal);
            return;
        }
        if (forwarded) return;
        // One ending only, whatever else arrives meanwhile.
        if (Interlocked.Exchange(ref _handling, 1) != 0) return;
        var outcome = new GuestOutcome.Stopped(signal);
        if (!_run.EndProcess(outcome)) return;   // a guest thread is ending the process already
        GuestTermination.Finish(_run, outcome, _reports, _settings);
    }

    /// <summary>
    /// Whether the signal is the program's (queued for its handler, ignored, or a stop: <paramref name="stop"/>)
    /// rather than its end.
    /// </summary>
    private bool ForwardToProgram(int signal, ReadOnlySpan<byte> siginfo, out bool stop)
    {
        stop = false;
        ulong disposition = _run.Disposition(signal);
        const ulong SigDfl = 0, SigIgn = 1;
        if (disposition == SigIgn) return true;
        if (disposition == SigDfl && Signals.IgnoredByDefault(signal) && !_run.Blocks(signal)) return true;
        if (disposition == SigDfl && Signals.StopsByDefault(signal) && !_run.Blocks(signal))
        {
            stop = true;
            return true;
        }
        // Blocked by every thread, it waits in the queue as it would in the kernel's (for sigwait, or until unblocked).
        if (disposition != SigDfl || _run.Blocks(signal))
        {
            // The program's handler runs at a guest thread's next safe point.
            // As the kernel gave it: a SIGCHLD's code, pid and status, a sender's pid and uid.
            var info = new SignalInfo(signal, BitConverter.ToInt32(siginfo[8..]), BitConverter.ToInt32(siginfo[16..]),
                BitConverter.ToInt32(siginfo[20..]), Raw: siginfo.ToArray());
            _run.Process.Signals.SendToProcess(info);
            return true;
        }
        return false;
    }

    /// <summary>
    /// A stop signal's default action, the kernel's, on memcheck's whole process: memcheck's handler
    /// is set aside while this thread (the listener, which does not block it) sends the signal to
    /// itself, so the process stops inside tgkill, with the signal the program's parent expects to
    /// see (WSTOPSIG), until a SIGCONT; then the handler is back. (A SIGSTOP instead would show as
    /// "Stopped (signal)" to a shell.)
    /// </summary>
    private unsafe void StopWithTheDefaultAction(int signal)
    {
        var kernel = _run.Process.Kernel;
        ulong* defaultAction = stackalloc ulong[4] { 0, 0, 0, 0 };   // SIG_DFL
        ulong* ours = stackalloc ulong[4];
        if (kernel.Call(SyscallNumbers.RtSigaction, signal, (long)defaultAction, (long)ours, 8) != 0) return;
        kernel.Call(SyscallNumbers.Tgkill, kernel.Call(SyscallNumbers.Getpid), kernel.Call(SyscallNumbers.Gettid), signal);
        kernel.Call(SyscallNumbers.RtSigaction, signal, (long)ours, 0, 8);
    }
}
