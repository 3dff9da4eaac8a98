namespace Checker.Engine.Syscalls;

/// <summary>
/// Keeps a fork of the guest apart from the host threads that are no guest threads but run
/// managed code for it (memcheck's signal listener). A child forked while such a thread was inside
/// the runtime's allocator, or held the thread list's or the signal queue's lock, would inherit
/// that lock held by a thread it does not have, and hang at its first use.
/// Plain counters, no monitor: entering must not allocate (a monitor's contention state is an
/// allocation, the very thing that must not run across a fork).
/// </summary>
public sealed class ForkGate
{
    private int _forking;
    private int _hostWork;

    /// <summary>
    /// Before a fork, and before taking any engine lock (host work may wait for one): no host work
    /// starts from now on, and the running one ends first. Nested forks (vfork's clone) may enter again.
    /// </summary>
    public void EnterFork()
    {
        Interlocked.Increment(ref _forking);
        while (Volatile.Read(ref _hostWork) != 0) Thread.Sleep(1);
    }

    /// <summary>After the fork, in the parent and in the child alike.</summary>
    public void ExitFork() => Interlocked.Decrement(ref _forking);

    /// <summary>Before host work: waits while a fork is under way.</summary>
    public void EnterHostWork()
    {
        while (true)
        {
            Interlocked.Increment(ref _hostWork);
            if (Volatile.Read(ref _forking) == 0) return;
            Interlocked.Decrement(ref _hostWork);
            Thread.Sleep(1);
        }
    }

    public void ExitHostWork() => Interlocked.Decrement(ref _hostWork);
}
