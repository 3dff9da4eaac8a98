using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine;
using Checker.Engine.Native;

namespace Checker.Memcheck;

/// <summary>
/// memcheck's own thread for signals from outside: Native/forwarded_signals.c's handler writes one
/// record per signal (its siginfo) to a pipe and this thread reads it, then hands the signal to
/// <see cref="TerminationSignals"/> (the program's, or its end) or runs the nudge. Nothing managed
/// runs on the runtime's threads when a signal arrives (see the C file for why), and a forked child
/// gets a pipe and a listener of its own, so a signal sent to the child is the child's.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe partial class SignalListener
{
    [LibraryImport("checker_startup", EntryPoint = "checker_signals_install", SetLastError = true)]
    private static partial int Install(int writeFd, int* signals, int count);

    [LibraryImport("checker_startup", EntryPoint = "checker_signals_redirect")]
    private static partial void Redirect(int writeFd);

    /// <summary>forwarded_signals.c's struct forwarded_signal: a tag (the signal, or 0x80 | a nudge's mode), 4 bytes reserved, the siginfo.</summary>
    private const int RecordSize = 136, SiginfoSize = 128;

    private const int OCloexec = 0x80000, ONonblock = 0x800, FSetfl = 4, FGetfl = 3, SigUnblock = 1;

    private readonly TerminationSignals _signals;
    private readonly Action<int>? _nudge;
    private int _readFd = -1, _writeFd = -1;

    private SignalListener(TerminationSignals signals, Action<int>? nudge)
    {
        _signals = signals;
        _nudge = nudge;
    }

    /// <summary>
    /// Installs the handler for <see cref="TerminationSignals.Forwarded"/> and starts the thread;
    /// <paramref name="nudge"/> takes a nudge's mode (none: nudges are ignored). False outside the
    /// NativeAOT executable (no handler to install: signals keep their default actions).
    /// </summary>
    public static bool Start(GuestRun run, TerminationSignals signals, Action<int>? nudge)
    {
        var listener = new SignalListener(signals, nudge);
        try
        {
            if (!listener.OpenPipe()) return false;
            // The runtime installs its own SIGINT/SIGQUIT handlers once, when its signal handling first
            // starts (the console does that): start it now, so that ours, installed next, stay.
            PosixSignalRegistration.Create(PosixSignal.SIGCONT, _ => { }).Dispose();
            int[] forwarded = [.. TerminationSignals.Forwarded];
            fixed (int* list = forwarded)
                if (Install(listener._writeFd, list, forwarded.Length) != 0) return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        run.Process.ForkedChild += listener.OnForkedChild;
        listener.StartThread();
        return true;
    }

    private bool OpenPipe()
    {
        int* fds = stackalloc int[2];
        if (LibC.pipe2(fds, OCloexec) != 0) return false;
        // The handler must never block on a full pipe.
        LibC.fcntl(fds[1], FSetfl, LibC.fcntl(fds[1], FGetfl, 0) | ONonblock);
        (_readFd, _writeFd) = (fds[0], fds[1]);
        return true;
    }

    /// <summary>In the child (its only thread is the forking guest thread): a pipe and a thread of its own.</summary>
    private void OnForkedChild()
    {
        int oldRead = _readFd, oldWrite = _writeFd;
        if (!OpenPipe()) return;   // the parent goes on reading the child's signals, as before the fork
        Redirect(_writeFd);
        LibC.close(oldRead);
        LibC.close(oldWrite);
        StartThread();
    }

    private void StartThread()
    {
        int readFd = _readFd;
        new Thread(() => Listen(readFd), 1 << 20) { IsBackground = true, Name = "memcheck signals" }.Start();
    }

    private void Listen(int readFd)
    {
        // Created by a guest thread in a forked child, it would inherit a mask that blocks them all.
        ulong forwarded = 0;
        foreach (int signal in TerminationSignals.Forwarded) forwarded |= 1UL << (signal - 1);
        LibC.pthread_sigmask(SigUnblock, &forwarded, null);
        // The pipe holds whole records only (each written at once, smaller than PIPE_BUF), so a read
        // into a multiple of their size returns whole records.
        const int Batch = 8;
        byte* records = stackalloc byte[Batch * RecordSize];
        while (true)
        {
            nint count = LibC.read(readFd, records, Batch * RecordSize);
            if (count <= 0)
            {
                if (count < 0 && Marshal.GetLastPInvokeError() == 4 /* EINTR */) continue;
                return;   // cannot happen while the write end is open: nothing more to read
            }
            for (nint at = 0; at + RecordSize <= count; at += RecordSize)
            {
                uint tag = *(uint*)(records + at);
                if ((tag & 0x80) == 0) _signals.Forward((int)tag, new ReadOnlySpan<byte>(records + at + 8, SiginfoSize));
                else _nudge?.Invoke((int)(tag & 0x7f));
            }
        }
    }
}
