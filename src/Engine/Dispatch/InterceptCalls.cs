using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.Interception;
using Checker.Engine.State;

namespace Checker.Engine.Dispatch;

/// <summary>
/// Replaced functions called from the code cache without a dispatcher round trip, as DynamoRIO's
/// clean calls: a replaced entry's fragment jumps to the <c>InterceptCall</c> routine
/// (<see cref="RuntimeRoutines"/>), which stores the guest's registers in the context block, moves
/// to the host stack and the host's fs base and calls <see cref="Run"/> on the thread's own host
/// thread; back in the fragment, the function's <c>ret</c> is an inlined indirect-branch lookup. The
/// handler is the same one the dispatcher would run, under the same lock. What the fast path does
/// not finish goes to the dispatcher after the handler: a tail call, a fault in guest memory, an
/// engine error or a stop request (<see cref="ExitIds.InterceptDone"/>, then <see cref="TakeOutcome"/>).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class InterceptCalls(TranslationCache cache, GuestThreads threads, InterceptedCalls? calls)
{
    /// <summary>What <see cref="Run"/> returns to the routine: go back into the cache, or leave it (ExitId says how).</summary>
    public const int Returned = 0, ToDispatcher = 1;

    [ThreadStatic] private static InterceptCalls? t_current;
    [ThreadStatic] private static Outcome t_outcome;

    /// <summary>How a call the routine made ends in the dispatcher.</summary>
    internal struct Outcome
    {
        /// <summary>The replaced function's entry (where a fault in its guest memory is reported).</summary>
        public ulong FunctionPc;
        /// <summary>Where the handler asked to go on instead of returning (<see cref="FunctionInterceptor.RequestTailCall"/>); 0: return.</summary>
        public ulong TailCall;
        public GuestMemoryFault? Fault;
        public ExceptionDispatchInfo? Error;
    }

    /// <summary>The address the routine calls.</summary>
    public static ulong EntryPoint => (ulong)(delegate* unmanaged<int, ContextBlock*, int>)&Run;

    /// <summary>Makes this the calls' state for the calling thread's dispatcher loop.</summary>
    public void Attach() => t_current = this;

    /// <summary>The end of a call the routine handed to the dispatcher (cleared).</summary>
    public static Outcome TakeOutcome()
    {
        Outcome outcome = t_outcome;
        t_outcome = default;
        return outcome;
    }

    [UnmanagedCallersOnly]
    private static int Run(int call, ContextBlock* context)
    {
        // No exception may leave an unmanaged entry: whatever goes wrong is the dispatcher's to raise.
        try
        {
            return t_current!.Call(call, context);
        }
        catch (Exception e)
        {
            return Hand(context, new Outcome { Error = ExceptionDispatchInfo.Capture(e) });
        }
    }

    private int Call(int call, ContextBlock* context)
    {
        // No test of whether the entry's fragment was flushed meanwhile (the dispatcher's path has
        // one): a thread can only be here from a fragment it entered before the flush took it out
        // of the links and the lookup tables, which is the moment it would have run the call anyway.
        ref readonly InterceptedCalls.Entry entry = ref calls![call];
        InterceptHandler handler = entry.Handler;
        cache.Statistics.InterceptedCalls++;
        try
        {
            // One allocator for every thread: its calls are serialized (as glibc's arena lock would).
            if (threads.Multithreaded)
                lock (cache.Lock) context->Rax = handler(context);
            else context->Rax = handler(context);
        }
        catch (GuestMemoryFault fault)
        {
            return Hand(context, new Outcome { FunctionPc = calls[call].Exit.TargetPc, Fault = fault });
        }
        if (FunctionInterceptor.TakeTailCall() is var tail and not 0) return Hand(context, new Outcome { TailCall = tail });
        // Asked to stop while the handler ran (a kick landing in C# code returns): the dispatcher takes it.
        if (Volatile.Read(ref context->StopSignal) != 0) return Hand(context, default);
        return Returned;
    }

    private static int Hand(ContextBlock* context, Outcome outcome)
    {
        t_outcome = outcome;
        context->ExitId = ExitIds.InterceptDone;
        return ToDispatcher;
    }
}
