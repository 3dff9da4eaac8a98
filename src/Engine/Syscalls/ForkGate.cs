using System.Runtime.Versioning;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// Keeps a fork of the guest apart from the host threads that are no guest threads but run
/// managed code for it (memcheck's signal listener), and from host threads still ending after
/// their guest thread did. A child forked while such a thread was inside the runtime's allocator,
/// or held the thread list's or the signal queue's lock, would inherit that lock held by a thread it
/// does not have, and hang at its first use.
/// Plain counters, no monitor: entering must not allocate (a monitor's contention state is an
/// allocation, the very thing that must not run across a fork). Waits sleep through libc, not
/// Thread.Sleep: the runtime's wait subsystem takes a process-wide lock around every sleep.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ForkGate
{
    private int _forking;
    private int _hostWork;

    // Kernel tids of host threads whose guest thread has ended but which may still be running: the
    // runtime detaches an ending thread from its thread list under that list's lock, after the
    // guest's join (the futex wake at its exit) already let another guest thread go on to fork. A
    // child forked then inherited the lock held and hung starting its signal listener (python's
    // threads joined, then subprocess.run: tests/cases/threads_then_spawn.c).
    private readonly int[] _ending = new int[64];

    /// <summary>
    /// Before a fork, and before taking any engine lock (host work may wait for one): no host work
    /// starts from now on, and the running one ends first; host threads that are ending are gone first.
    /// Nested forks (vfork's clone) may enter again.
    /// </summary>
    public void EnterFork()
    {
        Interlocked.Increment(ref _forking);
        while (Volatile.Read(ref _hostWork) != 0) LibC.usleep(1000);
        WaitForEndingThreads();
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
            LibC.usleep(1000);
        }
    }

    public void ExitHostWork() => Interlocked.Decrement(ref _hostWork);

    /// <summary>
    /// A host thread whose guest thread has ended, before it lets the guest's joiner go on (its
    /// futex wake): forks from now on wait until the kernel thread <paramref name="tid"/> is gone.
    /// </summary>
    public void Ending(int tid)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            for (int i = 0; i < _ending.Length; i++)
                if (Interlocked.CompareExchange(ref _ending[i], tid, 0) == 0) return;
            // Every slot names a thread: drop the gone ones, and give the rest a moment. Bounded (a
            // slot may name a tid the kernel gave again to a thread that lives on): a thread's exit
            // never waits more than ~5 ms here, unrecorded at worst.
            Prune();
            if (attempt > 0) LibC.usleep(100);
        }
    }

    private void Prune()
    {
        int self = LibC.getpid();
        for (int i = 0; i < _ending.Length; i++)
        {
            int tid = Volatile.Read(ref _ending[i]);
            if (tid != 0 && !Alive(self, tid)) Interlocked.CompareExchange(ref _ending[i], 0, tid);
        }
    }

    private void WaitForEndingThreads()
    {
        int self = LibC.getpid();
        for (int i = 0; i < _ending.Length; i++)
        {
            int tid = Volatile.Read(ref _ending[i]);
            if (tid == 0) continue;
            // Bounded: a tid the kernel gave again to a new thread must not stop forks for good.
            for (int waited = 0; Alive(self, tid) && waited < 2000; waited++) LibC.usleep(1000);
            Interlocked.CompareExchange(ref _ending[i], 0, tid);
        }
    }

    private static bool Alive(int pid, int tid) => LibC.tgkill(pid, tid, 0) == 0;
}
