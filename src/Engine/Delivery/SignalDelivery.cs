using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Dispatch;
using Checker.Engine.State;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Delivery;

/// <summary>
/// Runs the guest's signal handlers. Signals for the guest wait in a queue (one per thread, one for
/// the process) until their thread is at a safe point: its dispatcher, with every guest register in
/// its context block. To get a thread there soon, a sender unlinks the cache (every thread leaves
/// it at its next branch and relinks as it goes) and kicks the threads (<see cref="ThreadStopper.KickSignal"/>),
/// which interrupts one blocked in a system call: the call returns EINTR, or is restarted after
/// the handler when the handler has SA_RESTART, as natively. Synchronous faults are delivered at
/// once, at the faulting instruction.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class SignalDelivery(GuestProcess process, TranslationCache cache)
{
    private const ulong SigDfl = 0, SigIgn = 1;
    private const ulong SaNodefer = 0x4000_0000, SaResethand = 0x8000_0000, SaOnstack = 0x0800_0000, SaRestart = 0x1000_0000, SaRestorer = 0x0400_0000;
    private const int SsOnstack = 1, SsDisable = 2;
    /// <summary>What the kick leaves in rax of a guest system call it interrupted (see RuntimeRoutines): restart it, or maybe.</summary>
    public const long InterruptedBeforeCall = -513, InterruptedRestartable = -512;
    private const long Eintr = -4;

    private readonly Lock _lock = new();
    private readonly List<SignalInfo> _processPending = [];
    private int _pending;
    /// <summary>Bumped (and futex-woken) at every send: what rt_sigtimedwait sleeps on.</summary>
    private int _sequence;

    /// <summary>Cheap test at every dispatcher iteration: anything queued anywhere.</summary>
    public bool AnyPending => Volatile.Read(ref _pending) != 0;

    private ulong Action(int signal, int word) => BitConverter.ToUInt64(process.SignalActions[signal], 8 * word);

    /// <summary>Whether the guest runs a handler for <paramref name="signal"/>.</summary>
    public bool HasHandler(int signal) => Action(signal, 0) > SigIgn;

    /// <summary>The guest's signalfds: a blocked signal in one's mask is read from it, not delivered.</summary>
    public SignalFds Fds { get; } = new(process);

    /// <summary>A signal for one thread (tgkill, a fault's twin, pthread_kill, pthread_cancel).</summary>
    public void SendToThread(GuestThread target, SignalInfo info)
    {
        if ((target.SignalMask & (1UL << (info.Signal - 1))) != 0 && Fds.Any && Fds.TryPost(info)) return;
        lock (_lock)
        {
            target.PendingSignals.Add(info);
            _pending++;
        }
        Hurry([target]);
    }

    /// <summary>A signal for the process (kill, a timer, one from outside): the first thread that does not block it takes it.</summary>
    public void SendToProcess(SignalInfo info)
    {
        ulong signalBit = 1UL << (info.Signal - 1);
        if (Fds.Any && process.Threads.Live.All(t => (t.SignalMask & signalBit) != 0) && Fds.TryPost(info)) return;
        lock (_lock)
        {
            _processPending.Add(info);
            _pending++;
        }
        // One thread is kicked (a blocked system call there returns); the unlinked cache brings the others by.
        ulong bit = 1UL << (info.Signal - 1);
        Hurry(process.Threads.Live.Where(t => (t.SignalMask & bit) == 0).Take(1).ToList());
    }

    /// <summary>Gets the threads to a safe point: out of linked code, out of blocking system calls.</summary>
    private void Hurry(IReadOnlyList<GuestThread> threads)
    {
        const int FutexWakePrivate = 129;
        Interlocked.Increment(ref _sequence);
        fixed (int* sequence = &_sequence) process.Kernel.Call(SyscallNumbers.Futex, (long)sequence, FutexWakePrivate, int.MaxValue);
        lock (cache.Lock) cache.UnlinkAll();
        long pid = process.Kernel.Call(SyscallNumbers.Getpid);
        foreach (GuestThread t in threads)
            if (t != GuestThread.Current) process.Kernel.Call(SyscallNumbers.Tgkill, pid, t.Tid, ThreadStopper.KickSignal);
    }

    /// <summary>Whether a queued signal is one <paramref name="thread"/> does not block.</summary>
    public bool HasDeliverable(GuestThread thread)
    {
        lock (_lock)
            return thread.PendingSignals.Exists(s => (thread.SignalMask & (1UL << (s.Signal - 1))) == 0)
                || _processPending.Exists(s => (thread.SignalMask & (1UL << (s.Signal - 1))) == 0);
    }

    /// <summary>The next signal <paramref name="thread"/> may take now, its own first.</summary>
    private SignalInfo? Take(GuestThread thread)
    {
        lock (_lock)
        {
            if (_pending == 0) return null;
            foreach (List<SignalInfo> queue in new[] { thread.PendingSignals, _processPending })
            {
                int at = queue.FindIndex(s => (thread.SignalMask & (1UL << (s.Signal - 1))) == 0);
                if (at < 0) continue;
                SignalInfo info = queue[at];
                queue.RemoveAt(at);
                _pending--;
                return info;
            }
            return null;
        }
    }

    /// <summary>
    /// rt_sigtimedwait: a queued signal of <paramref name="set"/> (blocked or not) is taken and its
    /// number returned; else waits until one comes, the timeout passes (-EAGAIN), or a signal
    /// outside the set with a handler arrives (-EINTR: the handler runs at the safe point).
    /// </summary>
    public long Wait(GuestThread thread, ulong set, ulong siginfoAddress, long? timeoutNs)
    {
        long deadline = timeoutNs is long t ? Environment.TickCount64 + t / 1_000_000 : long.MaxValue;
        while (true)
        {
            int seen = Volatile.Read(ref _sequence);
            SignalInfo? taken = null;
            bool interrupt = false;
            lock (_lock)
            {
                foreach (List<SignalInfo> queue in new[] { thread.PendingSignals, _processPending })
                {
                    int at = queue.FindIndex(q => (set & (1UL << (q.Signal - 1))) != 0);
                    if (at >= 0)
                    {
                        taken = queue[at];
                        queue.RemoveAt(at);
                        _pending--;
                        break;
                    }
                    interrupt |= queue.Exists(q => (thread.SignalMask & (1UL << (q.Signal - 1))) == 0);
                }
            }
            if (taken is SignalInfo info)
            {
                if (siginfoAddress != 0)
                {
                    var bytes = new byte[128];
                    info.WriteTo(bytes);
                    if (!Native.GuestMemory.TryWrite(siginfoAddress, bytes)) return -14;   // EFAULT
                }
                return info.Signal;
            }
            if (interrupt) return Eintr;
            long left = deadline - Environment.TickCount64;
            if (left <= 0) return -11;   // EAGAIN
            long* wait = stackalloc long[2] { Math.Min(left, 100) / 1000, Math.Min(left, 100) % 1000 * 1_000_000 };
            // Signals the kernel keeps pending on this very thread (it blocks them all): a timer's
            // SIGEV_THREAD_ID (glibc's SIGEV_THREAD helper thread waits so), a tgkill from outside.
            // The wait there is ours too: a send kicks it.
            byte* kernelInfo = stackalloc byte[128];
            ulong kernelSet = set;
            long kernelSignal = process.GuestKernel.Call(SyscallNumbers.RtSigtimedwait, (long)&kernelSet, (long)kernelInfo, (long)wait, 8);
            if (kernelSignal > 0)
            {
                if (siginfoAddress != 0 && !Native.GuestMemory.TryWrite(siginfoAddress, new ReadOnlySpan<byte>(kernelInfo, 128))) return -14;
                return kernelSignal;
            }
            if (Volatile.Read(ref _sequence) != seen) continue;
            if (kernelSignal == -11) continue;   // its own 100 ms passed
        }
    }

    /// <summary>
    /// At a safe point of <paramref name="thread"/>, about to run <paramref name="pc"/>: runs the
    /// handler of a pending signal it does not block (returns the handler's pc), carries out a
    /// default action that ends the process (<see cref="GuestProcess.Kill"/>), or returns
    /// <paramref name="pc"/>. <paramref name="interrupted"/>: the system call just made was
    /// interrupted by a kick (its number), to be restarted or failed with EINTR.
    /// </summary>
    public ulong AtSafePoint(GuestThread thread, ulong pc, long? interrupted, ulong syscallPc)
    {
        ContextBlock* c = thread.Context;
        while (Take(thread) is SignalInfo info)
        {
            ulong handler = Action(info.Signal, 0);
            if (handler == SigIgn || (handler == SigDfl && State.Signals.IgnoredByDefault(info.Signal))) continue;
            if (handler == SigDfl && State.Signals.StopsByDefault(info.Signal))
            {
                // Unblocked since it was queued: it stops the process now, memcheck with it (SIGCONT resumes both).
                process.StopForReal(info.Signal);
                continue;
            }
            if (handler == SigDfl)
            {
                process.Kill(info.Signal);
                return pc;
            }
            if (interrupted is long number)
            {
                bool restart = c->Rax == unchecked((ulong)InterruptedBeforeCall) || (Action(info.Signal, 1) & SaRestart) != 0;
                if (restart) { pc = syscallPc; c->Rax = (ulong)number; }
                else c->Rax = unchecked((ulong)Eintr);
                interrupted = null;
            }
            if (!RunHandler(thread, pc, info, handler))
            {
                process.Kill(State.Signals.SIGSEGV);   // no room for the frame: the kernel's forced SIGSEGV
                return pc;
            }
            return c->NextPc;
        }
        if (interrupted is long again)
        {
            // Interrupted for a signal someone else took, or one that was ignored: as if nothing happened.
            c->Rax = (ulong)again;
            return syscallPc;
        }
        return pc;
    }

    /// <summary>A synchronous fault the guest has a handler for (and does not block): true with its handler's pc.</summary>
    public bool TryDeliverFault(GuestThread thread, GuestFault fault, out ulong handlerPc)
    {
        handlerPc = 0;
        ulong handler = Action(fault.Signal, 0);
        if (handler <= SigIgn || (thread.SignalMask & (1UL << (fault.Signal - 1))) != 0) return false;
        if (fault.Access != null) process.Tool.OnFaultHandledByProgram(fault);
        ContextBlock* c = thread.Context;
        for (int r = 0; r < 16; r++) c->Gpr[r] = fault.Registers[r];
        // After int3 the kernel reports the pc past it.
        ulong pc = fault.Signal == State.Signals.SIGTRAP && fault.Access == null && fault.Code <= 0x80 ? fault.Pc + 1 : fault.Pc;
        int code = fault.Signal == State.Signals.SIGTRAP ? SignalInfo.SiKernel : fault.Code;
        var info = new SignalInfo(fault.Signal, code, Address: fault.Address, Error: c->FaultError, Trap: fault.Signal == State.Signals.SIGSEGV ? 14UL : 0);
        if (!RunHandler(thread, pc, info, handler)) return false;
        handlerPc = c->NextPc;
        return true;
    }

    private bool RunHandler(GuestThread thread, ulong pc, in SignalInfo info, ulong handler)
    {
        ContextBlock* c = thread.Context;
        ulong flags = Action(info.Signal, 1), restorer = Action(info.Signal, 2), mask = Action(info.Signal, 3);
        (ulong sp, ulong ssFlags, ulong size) = thread.AltStack;
        bool onAltStack = size != 0 && (ssFlags & SsDisable) == 0 && c->Rsp - sp < size;
        ulong top = (flags & SaOnstack) != 0 && size != 0 && (ssFlags & SsDisable) == 0 && !onAltStack ? sp + size : c->Rsp - 128;
        var shownAltStack = (sp, (ulong)(size == 0 || (ssFlags & SsDisable) != 0 ? SsDisable : onAltStack ? SsOnstack : 0), size);
        if ((flags & SaRestorer) == 0) restorer = 0;
        // Ending an rt_sigsuspend, the frame saves the mask from before it; the handler runs under the suspend's.
        ulong saved = thread.MaskAfterSuspend ?? thread.SignalMask;
        if (!SignalFrame.Push(c, pc, top, info, handler, restorer, saved, shownAltStack)) return false;
        process.Tool.OnSignalFrame(thread, info.Signal, c->Rsp, top);
        thread.MaskAfterSuspend = null;
        ulong blocked = mask | ((flags & SaNodefer) == 0 ? 1UL << (info.Signal - 1) : 0);
        thread.SignalMask = (thread.SignalMask | blocked) & ~HostSignalMask.Unblockable;
        if ((flags & SaResethand) != 0) Array.Clear(process.SignalActions[info.Signal]);
        return true;
    }

    /// <summary>rt_sigreturn: back to where the handler interrupted (null: the frame is unreadable).</summary>
    public ulong? Return(GuestThread thread)
    {
        ulong? pc = SignalFrame.Pop(thread.Context, out ulong mask);
        if (pc != null) thread.SignalMask = mask & ~HostSignalMask.Unblockable;
        return pc;
    }

}
