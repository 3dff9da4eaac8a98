using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine;
using Checker.Engine.Delivery;
using Checker.Engine.Dispatch;
using Checker.Engine.State;

namespace Checker.Memcheck;

/// <summary>
/// Signals from outside for the program. The runtime hands process-directed signals to one of its
/// own threads (guest threads block them all), where this decides: a signal the program has a
/// handler for, or blocks in every thread, is queued for it (<see cref="Checker.Engine.Delivery.SignalDelivery"/>);
/// one whose default action ends the process (SIGTERM, SIGINT from a terminal, SIGHUP, SIGQUIT,
/// SIGALRM of alarm(), SIGUSR1, real-time signals...) ends it with the summary, the leak check and
/// the JSON, then the death by that signal, as the program would die (every guest thread stopped
/// first: <see cref="GuestRun.EndProcess"/>). Ignored signals stay with the kernel (SIG_IGN is passed
/// down); SIGCHLD, SIGURG and SIGWINCH are only forwarded to a handler.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class TerminationSignals : IDisposable
{
    // Default action "terminate" (or "core"), asynchronous: not the faults, not SIGPIPE (raised
    // for the writer itself, see SyscallEmulator), not SIGRTMIN (the runtime's), 32/33 (glibc's)
    // 63 (the nudge's, Nudge) or 64 (the engine's kick).
    private static readonly int[] Terminating =
        [1, 2, 3, 10, 12, 14, 15, 16, 24, 25, 26, 27, 29, 30, .. Enumerable.Range(35, 28),
            // Ignored by default: only forwarded to the program's handler (SIGCHLD, SIGURG, SIGWINCH).
            17, 23, 28];

    private readonly GuestRun _run;
    private readonly ReportSession _reports;
    private readonly MemcheckSettings _settings;
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _handling;

    public TerminationSignals(GuestRun run, ReportSession reports, MemcheckSettings settings)
    {
        _run = run;
        _reports = reports;
        _settings = settings;
        foreach (int signal in Terminating)
        {
            try { _registrations.Add(PosixSignalRegistration.Create(ToPosixSignal(signal), OnSignal)); }
            catch (Exception e) when (e is ArgumentOutOfRangeException or IOException or PlatformNotSupportedException) { }
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Forward(FromPosixSignal(context.Signal));
    }

    /// <summary>A signal from outside for the program (the nudge's signal 63 without its payload comes here too).</summary>
    public void Forward(int signal)
    {
        ulong disposition = _run.Disposition(signal);
        const ulong SigDfl = 0, SigIgn = 1;
        if (disposition == SigIgn) return;
        if (disposition == SigDfl && Signals.IgnoredByDefault(signal) && !_run.Blocks(signal)) return;
        // Blocked by every thread, it waits in the queue as it would in the kernel's (for sigwait, or until unblocked).
        if (disposition != SigDfl || _run.Blocks(signal))
        {
            // The program's handler runs at a guest thread's next safe point.
            _run.Process.Signals.SendToProcess(new SignalInfo(signal, SignalInfo.SiUser));
            return;
        }
        // One ending only, whatever else arrives meanwhile.
        if (Interlocked.Exchange(ref _handling, 1) != 0) return;
        var outcome = new GuestOutcome.Stopped(signal);
        if (!_run.EndProcess(outcome)) return;   // a guest thread is ending the process already
        GuestTermination.Finish(_run, outcome, _reports, _settings);
    }

    private static PosixSignal ToPosixSignal(int signal) => signal switch
    {
        1 => PosixSignal.SIGHUP,
        2 => PosixSignal.SIGINT,
        3 => PosixSignal.SIGQUIT,
        15 => PosixSignal.SIGTERM,
        _ => (PosixSignal)signal,
    };

    private static int FromPosixSignal(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        _ => (int)signal,
    };

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations) registration.Dispose();
    }
}
