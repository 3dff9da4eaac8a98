using System.Runtime.Versioning;
using Checker.Engine.State;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Dispatch;

/// <summary>
/// The guest's live threads, and the one decision about the end of the process: the first thread
/// that ends it (exit_group, a fatal signal, the last thread's exit, a terminating signal from
/// outside) wins, stops every other thread at a safe point and finishes the run; the others stop
/// where they are (their registers and stacks stay, as leak-scan roots).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class GuestThreads(KernelInterface kernel)
{
    /// <summary>The stop signal a thread is given when another one ends the process.</summary>
    public const int ProcessEnding = 0x10000;

    private readonly Lock _lock = new();
    private readonly List<GuestThread> _live = [];
    private int _started;
    private bool _ending;

    /// <summary>Threads the guest has had, the main one included.</summary>
    public int Started
    {
        get { lock (_lock) return _started; }
    }

    /// <summary>The number the next thread gets (1 for the main thread).</summary>
    public int NextNumber()
    {
        lock (_lock) return Interlocked.Increment(ref _started);
    }

    /// <summary>
    /// Whether the guest has ever had a second thread. Until then the engine's shared state has one
    /// user and the allocator's calls skip the lock (the thread that creates the second one is in
    /// clone, not in the allocator, when this turns true).
    /// </summary>
    public bool Multithreaded => Volatile.Read(ref _started) > 1;

    /// <summary>Whether the process is ending (a thread won <see cref="TryEndProcess"/>).</summary>
    public bool Ending
    {
        get { lock (_lock) return _ending; }
    }

    public IReadOnlyList<GuestThread> Live
    {
        get { lock (_lock) return _live.ToList(); }
    }

    public void Add(GuestThread thread)
    {
        lock (_lock) _live.Add(thread);
    }

    /// <summary>Runs <paramref name="action"/> on each live thread, under the list's lock: none leaves (and frees its context block) meanwhile.</summary>
    public void ForEachLive(Action<GuestThread> action)
    {
        lock (_lock)
            foreach (GuestThread thread in _live) action(thread);
    }

    /// <summary>
    /// The thread leaves by exit(2): true when others remain (only it ends), false when it was the
    /// last (its exit ends the process, and it stays registered for the leak scan).
    /// </summary>
    public bool TryLeave(GuestThread thread)
    {
        lock (_lock)
        {
            if (_ending || _live.Count <= 1) return false;
            _live.Remove(thread);
            thread.Finished = true;
            return true;
        }
    }

    /// <summary>After a fork, in the child: only the thread that forked exists there.</summary>
    public void ForkedChildKeeps(GuestThread thread)
    {
        lock (_lock)
        {
            _live.Clear();
            _live.Add(thread);
        }
    }

    /// <summary>
    /// Claims the end of the process for <paramref name="self"/> (null: a host thread that is no
    /// guest thread, such as the runtime's signal thread). The winner gets true once every other
    /// thread is stopped; a loser gets false and must stop where it is (<see cref="StopHere"/>).
    /// </summary>
    public bool TryEndProcess(GuestThread? self)
    {
        lock (_lock)
        {
            if (_ending) return false;
            _ending = true;
        }
        lock (_world)
        {
            foreach (GuestThread other in Live)
            {
                if (other == self || other.Finished) continue;
                ThreadStopper.Stop(other, kernel, ProcessEnding, TimeSpan.FromSeconds(5));
            }
        }
        return true;
    }

    // Held while the world is stopped: a pause and the end of the process never interleave.
    private readonly Lock _world = new();

    /// <summary>
    /// Stops every guest thread at a safe point, runs <paramref name="whileStopped"/> and lets them
    /// go on (a nudge's leak check). False when the process is ending. Called on a guest thread (a
    /// client request's leak check), that thread is already at its safe point and is not stopped.
    /// </summary>
    public unsafe bool WhileStopped(Action whileStopped)
    {
        lock (_world)
        {
            if (Ending) return false;
            List<GuestThread> stopped = [];
            try
            {
                foreach (GuestThread thread in Live)
                {
                    if (thread.Finished || thread == GuestThread.Current) continue;
                    ThreadStopper.Stop(thread, kernel, ThreadStopper.PauseSignal, TimeSpan.FromSeconds(5));
                    stopped.Add(thread);
                }
                whileStopped();
            }
            finally
            {
                foreach (GuestThread thread in stopped) ThreadStopper.Resume(thread.Context, kernel);
            }
            return true;
        }
    }

    /// <summary>
    /// A thread that lost the end of the process to another: tells a stopper waiting for it that it
    /// stopped (its guest registers are in its block) and never returns to the guest.
    /// </summary>
    public unsafe void StopHere(GuestThread thread)
    {
        ThreadStopper.MarkStopped(thread.Context, kernel);
        Thread.Sleep(Timeout.Infinite);
    }
}
