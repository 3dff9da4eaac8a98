namespace Checker.Engine.Syscalls;

/// <summary>
/// clone with CLONE_VM|CLONE_VFORK (vfork, posix_spawn): a fork whose parent waits, as the kernel's
/// vfork wait does, until the child has exec'd or exited, and then sees the memory the child
/// changed (<see cref="VforkChannel"/>): posix_spawn of a missing program returns ENOENT to its
/// caller, as natively, instead of a child that exits 127.
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private const ulong CloneVmAndVfork = 0x100 | 0x4000;

    private static bool IsVfork(ulong flags) => (flags & CloneVmAndVfork) == CloneVmAndVfork;

    private long Vfork(SyscallRequest r)
    {
        // The child's heap operations are replayed on the parent's heap, which must not change
        // meanwhile: no other thread allocates until the child has execed or exited. The fork gate
        // comes before that lock (see Clone) and is held for the fork only: a signal from outside
        // is still taken while the parent waits (a SIGTERM ends a parent whose child never execs).
        _process.ForkGate.EnterFork();
        bool gateHeld = true;
        void LeaveGate()
        {
            if (gateHeld) _process.ForkGate.ExitFork();
            gateHeld = false;
        }
        try
        {
            lock (_process.Lock) return VforkUnderLock(r, LeaveGate);
        }
        finally
        {
            LeaveGate();
        }
    }

    private long VforkUnderLock(SyscallRequest r, Action forked)
    {
        VforkChannel? channel = VforkChannel.Open(_process);
        // Taken before the fork: in the child the other threads are gone, and the stack is the new one.
        bool othersRun = _process.Threads.Live.Count > 1;
        State.ContextBlock* caller = CurrentContext;
        (ulong callerStack, ulong tls) = (caller->Rsp, caller->GuestFsBase);
        // The kernel's vfork wait would block the parent until the child execs, and the child
        // would wait for the parent to take its pages: the channel is the wait instead.
        long result = Clone(r with { A1 = channel != null ? r.A1 & ~0x4000UL : r.A1 & ~0x100UL, });
        forked();
        if (channel == null) return result;
        if (result < 0) channel.Abandon(_process);
        else if (result > 0)
        {
            State.ContextBlock* context = CurrentContext;
            channel.WaitForChild(_process, () => Volatile.Read(ref context->StopSignal) != 0);
        }
        else
        {
            channel.BecomeChild(_process);
            if (othersRun) channel.SendOnlyWithin(callerStack, r.A2, tls);
            _process.VforkParent = channel;
            _process.Tool.OnVforkChild();
            // A fork of this child is not the process the parent waits for.
            _process.ForkedChild += () =>
            {
                _process.VforkParent?.Abandon(_process);
                _process.VforkParent = null;
                _process.Tool.OnVforkChildForked();
            };
        }
        return result;
    }
}
