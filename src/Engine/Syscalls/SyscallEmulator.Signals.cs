using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.State;

namespace Checker.Engine.Syscalls;

/// <summary>
/// Signal system calls. Until signal delivery lands, the guest's dispositions and mask are kept
/// here while the real thread blocks asynchronous signals (see <see cref="HostSignalMask"/>), so
/// no host handler ever runs on the guest's stack in the middle of translated code.
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private const ulong SigIgn = 1, SigDfl = 0;

    private long RtSigaction(SyscallRequest r)
    {
        const ulong SigIgn = 1, SigDfl = 0;
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
        if (r.A1 != 0) CurrentThread.AltStack = (ss[0], ss[1] & 0xffffffff, ss[2]);
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
    /// A signal the guest sends itself (abort() raising SIGABRT, say). With no delivery yet, the
    /// default action is carried out here: the guest dies of it, or it is ignored.
    /// </summary>
    private long SignalSelf(SyscallRequest r, bool toSelf, int signal)
    {
        if (!toSelf || signal == 0) return PassThrough(r);
        if (signal < 0 || signal >= GuestProcess.SignalCount) return -Errno.EINVAL;
        ulong handler = BitConverter.ToUInt64(_process.SignalActions[signal], 0);
        if (handler == SigIgn || (handler == SigDfl && Signals.IgnoredByDefault(signal))) return 0;
        if (handler != SigDfl)
            throw new EngineException($"the program sent itself {Signals.Name(signal)} with a handler installed: signal delivery is not supported yet");
        _process.Kill(signal);
        return 0;
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
