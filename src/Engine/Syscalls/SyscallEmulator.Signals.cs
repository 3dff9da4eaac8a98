using System.Runtime.Versioning;
using Checker.Engine.Dispatch;
using Checker.Engine.Native;
using Checker.Engine.State;

namespace Checker.Engine.Syscalls;

/// <summary>
/// Signal system calls: the guest's dispositions (process-wide) and masks and alternate stacks (per
/// thread) are kept by the engine while the real threads block asynchronous signals (see
/// <see cref="HostSignalMask"/>), so no host handler ever runs on a guest stack in the middle of
/// translated code; signals for the guest go through <see cref="Delivery.SignalDelivery"/>.
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private const ulong SigIgn = 1, SigDfl = 0;

    private long RtSigaction(SyscallRequest r)
    {
        int signal = (int)r.A1;
        if (signal <= 0 || signal >= GuestProcess.SignalCount || signal is Signals.SIGKILL or 19 /* SIGSTOP */)
            return -Errno.EINVAL;
        if (signal == Dispatch.ThreadStopper.KickSignal && r.A2 != 0) return -Errno.EINVAL;   // the engine's own
        byte[] slot = _process.SignalActions[signal];
        // Guest pointers are copied, never dereferenced: a bad one is the program's EFAULT.
        Span<byte> action = stackalloc byte[GuestProcess.SigactionSize];
        if (r.A2 != 0 && !GuestMemory.TryRead(r.A2, action)) return -Errno.EFAULT;
        if (r.A3 != 0 && !GuestMemory.TryWrite(r.A3, slot)) return -Errno.EFAULT;
        if (r.A2 != 0)
        {
            action.CopyTo(slot);
            ulong handler = BitConverter.ToUInt64(slot, 0);
            // Ignoring is safe to hand to the kernel (no guest code runs); handlers wait for signal support.
            if (handler == SigIgn)
            {
                // The host's own action (memcheck's handler for a terminating signal) comes back when
                // the guest stops ignoring: never SIG_DFL, which would let the signal kill memcheck
                // without its report.
                byte[] host = new byte[GuestProcess.SigactionSize];
                fixed (byte* old = host)
                    if (PassThrough(r with { A3 = (ulong)old }) == 0 && _process.KernelIgnored.Add(signal)) _process.HostActions[signal] = host;
            }
            else if (_process.KernelIgnored.Remove(signal))
            {
                // None saved (ignored since memcheck started): the kernel's action is the host's own
                // handler if memcheck installed one since, else still SIG_IGN, which becomes SIG_DFL.
                byte[] host = _process.HostActions[signal] ?? new byte[GuestProcess.SigactionSize];
                if (_process.HostActions[signal] == null)
                    fixed (byte* current = host) _process.Kernel.Call(SyscallNumbers.RtSigaction, signal, 0, (long)current, 8);
                if (_process.HostActions[signal] == null && BitConverter.ToUInt64(host, 0) == SigIgn) host = new byte[GuestProcess.SigactionSize];
                fixed (byte* restore = host) _process.Kernel.Call(SyscallNumbers.RtSigaction, signal, (long)restore, 0, 8);
                _process.HostActions[signal] = null;
            }
        }
        return 0;
    }

    private long Sigaltstack(SyscallRequest r)
    {
        ulong* ss = stackalloc ulong[3];
        if (r.A1 != 0 && !GuestMemory.TryRead(r.A1, new Span<byte>(ss, 24))) return -Errno.EFAULT;
        if (r.A2 != 0)
        {
            ulong* old = stackalloc ulong[3] { CurrentThread.AltStack.Sp, CurrentThread.AltStack.Flags, CurrentThread.AltStack.Size };
            if (!GuestMemory.TryWrite(r.A2, new ReadOnlySpan<byte>(old, 24))) return -Errno.EFAULT;
        }
        if (r.A1 != 0)
        {
            const ulong SsDisable = 2;
            CurrentThread.AltStack = (ss[0], ss[1] & 0xffffffff, ss[2]);
            _process.Tool.OnAlternateStack(CurrentThread, ss[0], (ss[1] & SsDisable) != 0 ? 0 : ss[2]);
        }
        return 0;
    }

    private long RtSigprocmask(SyscallRequest r)
    {
        const int Block = 0, Unblock = 1, SetMask = 2;
        if (r.A4 != 8) return -Errno.EINVAL;
        ulong old = CurrentThread.SignalMask;
        ulong requested = 0;
        if (r.A2 != 0 && !GuestMemory.TryReadUInt64(r.A2, out requested)) return -Errno.EFAULT;
        if (r.A3 != 0 && !GuestMemory.TryWriteUInt64(r.A3, old)) return -Errno.EFAULT;
        if (r.A2 != 0)
        {
            ulong set = requested & ~HostSignalMask.Unblockable;
            switch ((int)r.A1)
            {
                case Block: CurrentThread.SignalMask = old | set; break;
                case Unblock: CurrentThread.SignalMask = old & ~set; break;
                case SetMask: CurrentThread.SignalMask = set; break;
                default: return -Errno.EINVAL;
            }
        }
        return 0;
    }

    /// <summary>
    /// kill/tkill/tgkill aimed at this process or one of its threads: the guest's handler runs at the
    /// target's next safe point, a default action that ends the process is carried out here
    /// (abort() raising SIGABRT), an ignored signal is dropped. Anything else goes to the kernel.
    /// </summary>
    private long SignalSelf(SyscallRequest r, bool toSelf, int signal) => SignalGuest(r, null, toSelf, signal);

    private long SignalGuest(SyscallRequest r, GuestThread? target, bool toProcess, int signal, Checker.Engine.Delivery.SignalInfo? queued = null)
    {
        if ((target == null && !toProcess) || signal == 0) return PassThrough(r);
        if (signal < 0 || signal >= GuestProcess.SignalCount) return -Errno.EINVAL;
        ulong handler = BitConverter.ToUInt64(_process.SignalActions[signal], 0);
        if (handler == SigIgn || (handler == SigDfl && Signals.IgnoredByDefault(signal))) return 0;
        int pid = (int)_process.Kernel.Call(SyscallNumbers.Getpid);
        int uid = (int)_process.Kernel.Call(102 /* getuid */);
        bool threadDirected = r.Number is not (SyscallNumbers.Kill or SyscallNumbers.RtSigqueueinfo);
        var info = queued ?? new Checker.Engine.Delivery.SignalInfo(signal, threadDirected ? Checker.Engine.Delivery.SignalInfo.SiTkill : Checker.Engine.Delivery.SignalInfo.SiUser, pid, uid);
        if (handler == SigDfl)
        {
            // Blocked (by its thread, or by every thread), it waits as natively, for sigwait or
            // until unblocked; else the process dies of it.
            ulong bit = 1UL << (signal - 1);
            bool blocked = target != null ? (target.SignalMask & bit) != 0 : _process.Threads.Live.All(t => (t.SignalMask & bit) != 0);
            if (!blocked && Signals.StopsByDefault(signal)) _process.StopForReal(signal);   // raise(SIGSTOP), a shell's job control
            else if (!blocked) _process.Kill(signal);
            else if (target != null) _process.Signals.SendToThread(target, info);
            else _process.Signals.SendToProcess(info);
            return 0;
        }
        if (threadDirected && target != null) _process.Signals.SendToThread(target, info);
        else _process.Signals.SendToProcess(info);
        return 0;
    }

    /// <summary>tkill/tgkill of a thread: this one, another guest thread, or someone else's.</summary>
    private long SignalThread(SyscallRequest r, long tgid, long tid, int signal)
    {
        long pid = _process.Kernel.Call(SyscallNumbers.Getpid);
        if (tgid != -1 && tgid != pid) return PassThrough(r);
        GuestThread? target = _process.Threads.Live.FirstOrDefault(t => t.Tid == tid);
        if (target == null) return PassThrough(r);
        return SignalGuest(r, target, toProcess: false, signal);
    }

    /// <summary>
    /// rt_sigqueueinfo/rt_tgsigqueueinfo (sigqueue, and a crash handler re-raising the fault it
    /// caught with its siginfo: chromium's): to this process, the guest's siginfo as given (the
    /// kernel lets a process send itself any si_code; another process only negative ones), handled
    /// as kill/tgkill are. Passed to the kernel, a self-sent SIGSEGV with a fault's si_code reached
    /// memcheck's own fault handler, which took it for a fault of its own at the syscall.
    /// </summary>
    private long QueueSignal(SyscallRequest r, long tgid, long tid, int signal, ulong infoAddress)
    {
        long pid = _process.Kernel.Call(SyscallNumbers.Getpid);
        if (tgid != pid) return PassThrough(r);
        GuestThread? target = null;
        if (tid != -1 && (target = _process.Threads.Live.FirstOrDefault(t => t.Tid == tid)) == null) return PassThrough(r);
        if (signal < 0 || signal >= GuestProcess.SignalCount) return -Errno.EINVAL;
        if (GuestSigInfo(infoAddress, signal, setSigno: true) is not { } info) return -Errno.EFAULT;
        return SignalGuest(r, target, toProcess: target == null, signal, info);
    }

    /// <summary>
    /// The guest's siginfo_t at <paramref name="address"/> for <paramref name="signal"/> (null if
    /// unreadable): si_signo set to it as rt_sigqueueinfo's kernel does, or left as given.
    /// </summary>
    private static Checker.Engine.Delivery.SignalInfo? GuestSigInfo(ulong address, int signal, bool setSigno)
    {
        const int SiginfoSize = 128;
        byte[] raw = new byte[SiginfoSize];
        if (!GuestMemory.TryRead(address, raw)) return null;
        if (setSigno) BitConverter.TryWriteBytes(raw.AsSpan(0, 4), signal);
        return new Checker.Engine.Delivery.SignalInfo(signal, BitConverter.ToInt32(raw, 8), BitConverter.ToInt32(raw, 16), BitConverter.ToInt32(raw, 20), Raw: raw);
    }

    /// <summary>
    /// pidfd_send_signal to a pidfd of this process (pidfd_open(getpid())): handled as kill is, with
    /// the guest's siginfo when it gives one. Passed to the kernel, the signal reached memcheck's
    /// threads as any process-directed one does, not through the guest's dispositions here.
    /// </summary>
    private long PidfdSendSignal(SyscallRequest r)
    {
        int signal = (int)r.A2;
        if (r.A4 != 0 || signal == 0 || PidOfPidfd((long)r.A1) != _process.Kernel.Call(SyscallNumbers.Getpid)) return PassThrough(r);
        if (signal < 0 || signal >= GuestProcess.SignalCount) return -Errno.EINVAL;
        Checker.Engine.Delivery.SignalInfo info;
        if (r.A3 == 0)
        {
            int pid = (int)_process.Kernel.Call(SyscallNumbers.Getpid), uid = (int)_process.Kernel.Call(102 /* getuid */);
            info = new Checker.Engine.Delivery.SignalInfo(signal, Checker.Engine.Delivery.SignalInfo.SiUser, pid, uid);
        }
        else
        {
            if (GuestSigInfo(r.A3, signal, setSigno: false) is not { } given) return -Errno.EFAULT;
            if (BitConverter.ToInt32(given.Raw!, 0) != signal) return -Errno.EINVAL;   // as the kernel checks si_signo
            info = given;
        }
        return SignalGuest(r, null, toProcess: true, signal, info);
    }

    /// <summary>The process a pidfd refers to ("Pid:" in its fdinfo); -1 when the descriptor is not a pidfd.</summary>
    private static long PidOfPidfd(long fd)
    {
        if (fd < 0) return -1;
        try
        {
            foreach (string line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
                if (line.StartsWith("Pid:", StringComparison.Ordinal) && long.TryParse(line.AsSpan(4).Trim(), out long pid)) return pid;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }

    /// <summary>rt_sigtimedwait (sigwait, sigwaitinfo, sigtimedwait): from the engine's queues, where signals for the guest wait.</summary>
    private long RtSigtimedwait(SyscallRequest r)
    {
        if (r.A4 != 8) return -Errno.EINVAL;
        if (!GuestMemory.TryReadUInt64(r.A1, out ulong set)) return -Errno.EFAULT;
        long? timeout = null;
        if (r.A3 != 0)
        {
            if (!GuestMemory.TryReadUInt64(r.A3, out ulong seconds) || !GuestMemory.TryReadUInt64(r.A3 + 8, out ulong nanoseconds)) return -Errno.EFAULT;
            if (nanoseconds >= 1_000_000_000) return -Errno.EINVAL;
            timeout = (long)Math.Min(seconds, long.MaxValue / 2_000_000_000) * 1_000_000_000 + (long)nanoseconds;
        }
        return _process.Signals.Wait(CurrentThread, set & ~HostSignalMask.Unblockable, r.A2, timeout);
    }

    /// <summary>signalfd/signalfd4 (see <see cref="Delivery.SignalFds"/>).</summary>
    private long Signalfd(SyscallRequest r, int flags)
    {
        if (r.A3 != 8) return -Errno.EINVAL;
        if (!GuestMemory.TryReadUInt64(r.A2, out ulong mask)) return -Errno.EFAULT;
        return _process.Signals.Fds.Create((int)r.A1, mask & ~HostSignalMask.Unblockable, flags);
    }

    private long RtSigreturn(SyscallRequest r)
    {
        GuestThread thread = CurrentThread;
        ulong? pc = _process.Signals.Return(thread);
        if (pc is not ulong resume)
        {
            _process.Kill(Signals.SIGSEGV);   // a frame it cannot read: the kernel's SIGSEGV
            return 0;
        }
        thread.ResumePc = resume;
        return 0;
    }

    /// <summary>
    /// rt_sigsuspend: waits with the guest's mask (never blocking the engine's signals); the
    /// handler that ends it saves the mask from before, as the kernel's frame does.
    /// </summary>
    private long RtSigsuspend(SyscallRequest r)
    {
        if (r.A2 != 8) return -Errno.EINVAL;
        if (!GuestMemory.TryReadUInt64(r.A1, out ulong mask)) return -Errno.EFAULT;
        GuestThread thread = CurrentThread;
        thread.MaskAfterSuspend = thread.SignalMask;
        thread.SignalMask = mask & ~HostSignalMask.Unblockable;
        // Signals for the guest come through memcheck's queues, and a send kicks this thread out of
        // the wait: the host thread keeps every other signal blocked while it waits.
        if (_process.Signals.HasDeliverable(thread)) return -Errno.EINTR;
        ulong host = ~HostSignalMask.Unblockable;
        long result = _process.GuestKernel.Call(SyscallNumbers.RtSigsuspend, (long)&host, 8);
        return result is Checker.Engine.Delivery.SignalDelivery.InterruptedBeforeCall or Checker.Engine.Delivery.SignalDelivery.InterruptedRestartable
            ? -4 /* EINTR: it never restarts */ : result;
    }

    private void SetKernelDisposition(int signal, ulong handler)
    {
        ulong* action = stackalloc ulong[4] { handler, 0, 0, 0 };
        _process.Kernel.Call(SyscallNumbers.RtSigaction, signal, (long)action, 0, 8);
    }

    /// <summary>
    /// The kernel's SIGPIPE for a write to a broken pipe stays pending on our blocked thread:
    /// carry out what it would have done to the guest.
    /// </summary>
    private void RaiseBrokenPipe()
    {
        const int SigPipe = 13;
        ulong handler = BitConverter.ToUInt64(_process.SignalActions[SigPipe], 0);
        if (handler == SigDfl && (CurrentThread.SignalMask & (1UL << (SigPipe - 1))) == 0) _process.Kill(SigPipe);
    }
}
