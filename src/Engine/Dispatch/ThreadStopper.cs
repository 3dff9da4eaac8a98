using System.Runtime.Versioning;
using Checker.Engine.State;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Dispatch;

/// <summary>How a stop request ended.</summary>
public enum StopResult
{
    /// <summary>The thread is parked for good (its guest registers are in its context block): the requester finishes the run.</summary>
    Parked,
    /// <summary>The thread's dispatcher took the stop: it finishes the run itself.</summary>
    Claimed,
    /// <summary>Neither within the time given (a bug): the requester finishes without the thread.</summary>
    NoResponse,
}

/// <summary>
/// Stops a guest thread from another host thread, for a signal that ends the whole process
/// (SIGTERM, SIGINT...): the runtime hands those to one of its own threads, while the guest thread
/// may be anywhere, in a linked loop of the code cache that never comes back to the dispatcher
/// included. The requester sets the stop signal and kicks the thread with <see cref="KickSignal"/>
/// until it parks in the kick handler (in the cache) or its dispatcher claims the stop.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class ThreadStopper
{
    /// <summary>SIGRTMAX: the engine's own signal. The guest may not install a handler for it (EINVAL, as Valgrind does with its own).</summary>
    public const int KickSignal = 64;

    public static StopResult Stop(GuestThread thread, KernelInterface kernel, int signal, TimeSpan timeout)
    {
        const int FutexWaitPrivate = 128;
        ContextBlock* context = thread.Context;
        Volatile.Write(ref context->StopSignal, signal);
        long pid = kernel.Call(SyscallNumbers.Getpid);
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        long* wait = stackalloc long[2] { 0, 50_000_000 };   // 50 ms, then kick again
        while (Environment.TickCount64 < deadline)
        {
            switch (Volatile.Read(ref context->StopState))
            {
                case StopStates.Parked: return StopResult.Parked;
                case StopStates.Claimed: return StopResult.Claimed;
            }
            // Again and again: a kick that lands in C# code is only noticed at the dispatcher's next
            // iteration, and the thread may have entered the cache in between.
            kernel.Call(SyscallNumbers.Tgkill, pid, context->ThreadId, KickSignal);
            kernel.Call(SyscallNumbers.Futex, (long)&context->StopState, FutexWaitPrivate, StopStates.Running, (long)wait);
        }
        return StopResult.NoResponse;
    }

    /// <summary>The stop signal of a pause (a nudge's leak check): the thread goes on after <see cref="Resume"/>.</summary>
    public const int PauseSignal = 0x20000;

    /// <summary>Lets a paused thread go on (parked in the kick handler, or waiting in its dispatcher).</summary>
    public static void Resume(ContextBlock* context, KernelInterface kernel)
    {
        const int FutexWakePrivate = 129;
        Volatile.Write(ref context->StopSignal, 0);
        Volatile.Write(ref context->StopState, StopStates.Running);
        kernel.Call(SyscallNumbers.Futex, (long)&context->StopState, FutexWakePrivate, int.MaxValue);
    }

    /// <summary>In the dispatcher, after claiming a pause: waits until <see cref="Resume"/>.</summary>
    public static void WaitForResume(ContextBlock* context, KernelInterface kernel)
    {
        const int FutexWaitPrivate = 128;
        while (Volatile.Read(ref context->StopState) == StopStates.Claimed)
            kernel.Call(SyscallNumbers.Futex, (long)&context->StopState, FutexWaitPrivate, StopStates.Claimed, 0);
    }

    /// <summary>
    /// A thread that stops on its own (it lost the end of the process to another thread) while a
    /// stopper may be waiting for it: claims its stop and wakes the waiter.
    /// </summary>
    public static void MarkStopped(ContextBlock* context, KernelInterface kernel)
    {
        const int FutexWakePrivate = 129;
        Interlocked.CompareExchange(ref context->StopState, StopStates.Claimed, StopStates.Running);
        kernel.Call(SyscallNumbers.Futex, (long)&context->StopState, FutexWakePrivate, int.MaxValue);
    }

    /// <summary>Called by the dispatcher at every iteration: whether a stop was requested and this thread now owns it.</summary>
    public static bool ClaimRequested(ContextBlock* context) =>
        Volatile.Read(ref context->StopSignal) != 0
        && Interlocked.CompareExchange(ref context->StopState, StopStates.Claimed, StopStates.Running) == StopStates.Running;
}
