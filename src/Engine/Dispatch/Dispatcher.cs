using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.Delivery;
using Checker.Engine.State;
using Checker.Engine.Syscalls;
using Checker.Engine.Translation;

namespace Checker.Engine.Dispatch;

/// <summary>How a guest run ended.</summary>
public abstract record GuestOutcome
{
    public sealed record Exited(int Status) : GuestOutcome;
    /// <summary>The guest's own signal with its default action (abort() raising SIGABRT).</summary>
    public sealed record Signalled(int Signal) : GuestOutcome;
    /// <summary>A signal from outside that ends the process (SIGTERM, SIGINT...), taken by this thread at a safe point.</summary>
    public sealed record Stopped(int Signal) : GuestOutcome;
    /// <summary>A synchronous signal of the guest (a fault, ud2, int3...), with what it would have seen natively.</summary>
    public sealed record Faulted(GuestFault Fault) : GuestOutcome
    {
        public int Signal => Fault.Signal;
        public ulong Pc => Fault.Pc;
    }
    /// <summary>The engine failed on some guest thread (an internal error, or something it does not support).</summary>
    public sealed record EngineFailed(Exception Error) : GuestOutcome;
    /// <summary>Only this thread ended (exit(2) while others run on): not an end of the process.</summary>
    internal sealed record ThreadExited(int Status) : GuestOutcome;
}

/// <summary>
/// The loop a guest thread runs in: find or translate the fragment for the next application pc,
/// enter the cache, and act on the exit that comes back (link a direct branch, fill the
/// indirect-branch table, perform a system call).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class Dispatcher(TranslationCache cache, BlockTranslator translator, SyscallEmulator syscalls, GuestProcess process,
    FaultAnalyzer faults, Tools.Tool tool)
{
    private readonly delegate* unmanaged<void> _enter = (delegate* unmanaged<void>)cache.Routines.Enter;
    private readonly delegate* unmanaged<void> _enterAfterCall = (delegate* unmanaged<void>)cache.Routines.EnterAfterCall;
    private readonly ClientRequests _clientRequests = new(cache, tool);
    private readonly InterceptCalls _intercepts = new(cache, process.Threads, process.Interceptor?.Calls);

    public GuestOutcome Run(GuestThread thread, ulong startPc)
    {
        ulong pc = startPc;
        while (true)
        {
            try
            {
                return RunLoop(thread, pc);
            }
            catch (GuestCodeFault fault)
            {
                // A jump or call to memory that holds no executable guest code: the guest's SIGSEGV.
                GuestFault f = faults.Execute(thread.Context, fault);
                if (!process.Signals.TryDeliverFault(thread, f, out pc)) return new GuestOutcome.Faulted(f);
            }
        }
    }

    /// <summary>A synchronous signal: to the guest's handler (true, with its pc), or the end of the process.</summary>
    private bool Deliver(GuestThread thread, GuestFault fault, out ulong pc, out GuestOutcome? outcome)
    {
        outcome = null;
        if (process.Signals.TryDeliverFault(thread, fault, out pc)) return true;
        outcome = new GuestOutcome.Faulted(fault);
        return false;
    }

    private GuestOutcome RunLoop(GuestThread thread, ulong startPc)
    {
        ContextBlock* context = thread.Context;
        EngineStatistics stats = cache.Statistics;
        ulong pc = startPc;
        bool afterCall = false;
        ulong resumeInCache = 0;
        SignalDelivery signals = process.Signals;
        GuestThreads threads = process.Threads;
        GuestOutcome? outcome;
        Fragment? known = null;
        _intercepts.Attach();
        Translation.ReturnPrediction.Initialize(context, cache.Routines);
        while (true)
        {
            if (ThreadStopper.ClaimRequested(context))
            {
                if (context->StopSignal != ThreadStopper.PauseSignal) return new GuestOutcome.Stopped(context->StopSignal);
                ThreadStopper.WaitForResume(context, process.Kernel);
            }
            // A safe point: every guest register is in the block. Signals waiting for this thread run here.
            if (resumeInCache == 0 && (signals.AnyPending || thread.InterruptedSyscall != null))
            {
                long? interrupted = thread.InterruptedSyscall;
                thread.InterruptedSyscall = null;
                ulong before = pc;
                pc = signals.AtSafePoint(thread, pc, interrupted, interrupted != null ? pc - 2 : 0);
                if (process.Exited) return process.KilledBySignal != 0 ? new GuestOutcome.Signalled(process.KilledBySignal) : new GuestOutcome.Exited(process.ExitStatus);
                if (pc != before || interrupted != null) afterCall = false;
            }
            if (thread.MaskAfterSuspend is ulong restore)
            {
                thread.SignalMask = restore;
                thread.MaskAfterSuspend = null;
            }
            // Back from the tool's exit: continue inside the fragment, right after its call. A
            // fragment the exit's handling already looked up for this pc (linking, filling the
            // table) is entered as it is: in a large program each lookup in the fragment index is
            // a cache miss or two (cc1plus: 3.5% of its time in them, half of them repeats).
            context->EnterTarget = resumeInCache != 0 ? resumeInCache : afterCall ? ReturnSite(pc, context).Entry
                : known is { Flushed: false } found && found.ApplicationPc == pc && found.Mode == tool.ModeOf(context) ? found.Entry : Lookup(pc).Entry;
            resumeInCache = 0;
            known = null;
            stats.DispatcherEntries++;
            if (afterCall) _enterAfterCall();
            else _enter();
            afterCall = false;

            int id = context->ExitId;
            if (id == ExitIds.IndirectMiss)
            {
                stats.IndirectMisses++;
                pc = context->NextPc;
                // Under the lock: a fragment flushed between the lookup and the store would stay in the table.
                // In the mode of the site that missed (it looks in its mode's table, named by its victim
                // table): a mode other than 0 runs any state. Read once and cleared, so a stale value
                // never picks a mode.
                ulong victims = (uint)context->IblMissTable;
                context->IblMissTable = 0;
                lock (cache.Lock)
                {
                    IndirectBranchTable? site = victims != 0 ? cache.IndirectBranchTableOfVictim(victims) : null;
                    Fragment target = site != null ? Lookup(pc, site.Mode) : Lookup(pc);
                    cache.IndirectBranchesFor(target.Mode).Insert(pc, target.LookupEntry);
                    if (site == null) known = target;   // in the thread's own mode, as the loop would look it up
                }
                continue;
            }
            if (id == ExitIds.FaultInCache)
            {
                if (Deliver(thread, faults.InCache(context), out pc, out outcome)) continue;
                return outcome!;
            }
            if (id == ExitIds.ToolExit)
            {
                stats.ToolExits++;
                // The tool's state (memcheck: shadow, heap, report path) is shared by every thread.
                ulong? redirect;
                lock (cache.Lock)
                {
                    // Found first: the exit may flush the fragment (memcheck splitting a merged check).
                    ulong returnPc = context->LinkReturn;
                    Fragment? from = cache.FindByCachePc(returnPc);
                    redirect = tool.OnToolExit(context);
                    // The thread leaves that fragment mid-run (memcheck: on in the propagating mode):
                    // a register its checks hold in gs:[HeldScratch] gets its guest value back.
                    if (redirect != null && from?.HeldRegisterAt(cache.InstructionMaps, returnPc) is int held and >= 0)
                        context->Gpr[held] = *(ulong*)((byte*)context + ContextOffsets.HeldScratch);
                }
                if (redirect is ulong next) pc = next;
                else resumeInCache = context->LinkReturn;
                continue;
            }
            if (id == ExitIds.InterceptDone)
            {
                // A replaced function ran from the cache (InterceptCalls) and left the rest to us.
                stats.InterceptExits++;
                InterceptCalls.Outcome done = InterceptCalls.TakeOutcome();
                done.Error?.Throw();
                if (done.Fault != null)
                {
                    if (Deliver(thread, faults.InReplacedFunction(context, done.FunctionPc, done.Fault), out pc, out outcome)) continue;
                    return outcome!;
                }
                if (done.TailCall != 0)
                {
                    pc = done.TailCall;
                    continue;
                }
                pc = *(ulong*)context->Rsp;
                context->Rsp += 8;
                afterCall = true;
                continue;
            }
            ExitStub exit = cache.Exit(id);
            switch (exit.Kind)
            {
                case ExitKind.Direct:
                    pc = exit.TargetPc;
                    // A tool's mode change goes to its mode (the tool set the state that mode needs); any
                    // other exit stays in its fragment's mode, whose code decides at entry whether to leave.
                    int targetMode = exit.TargetMode ?? cache.OwnerOf(exit)?.Mode ?? tool.ModeOf(context);
                    lock (cache.Lock)
                    {
                        Fragment target = Lookup(pc, targetMode);
                        cache.Link(id, target);
                        if (targetMode == tool.ModeOf(context)) known = target;
                    }
                    break;
                case ExitKind.Syscall:
                    stats.Syscalls++;
                    syscalls.Handle(context, exit.TargetPc);
                    if (thread.Finished) return new GuestOutcome.ThreadExited(thread.ExitStatus);
                    if (thread.ResumePc != 0)
                    {
                        // rt_sigreturn: on where the handler's ucontext says.
                        pc = thread.ResumePc;
                        thread.ResumePc = 0;
                        if (process.Exited) return new GuestOutcome.Signalled(process.KilledBySignal);
                        break;
                    }
                    if (process.KilledBySignal != 0) return new GuestOutcome.Signalled(process.KilledBySignal);
                    if (process.Exited) return new GuestOutcome.Exited(process.ExitStatus);
                    pc = exit.TargetPc;
                    break;
                case ExitKind.Intercept when cache.FunctionOf(id) is { } replaced && cache.OwnerOf(exit) is { Flushed: false }:
                    stats.InterceptedCalls++;
                    stats.InterceptExits++;
                    try
                    {
                        // One allocator for every thread: its calls are serialized (as glibc's arena lock would).
                        if (threads.Multithreaded)
                            lock (cache.Lock) context->Rax = replaced.Handler(context);
                        else context->Rax = replaced.Handler(context);
                        if (Interception.FunctionInterceptor.TakeTailCall() is var tail and not 0)
                        {
                            pc = tail;
                            break;
                        }
                        // The replaced function's ret. [rsp] is readable: the call that got here just
                        // wrote the return address there (a copy through GuestMemory would be a system
                        // call on every malloc and free).
                        pc = *(ulong*)context->Rsp;
                    }
                    catch (GuestMemoryFault fault)
                    {
                        if (Deliver(thread, faults.InReplacedFunction(context, exit.TargetPc, fault), out pc, out outcome)) continue;
                        return outcome!;
                    }
                    context->Rsp += 8;
                    afterCall = true;
                    break;
                case ExitKind.Intercept:
                    pc = exit.TargetPc;   // no longer replaced (module unmapped and reloaded): run it
                    lock (cache.Lock) cache.Flush(pc, pc + 1);
                    break;
                case ExitKind.Fault:
                    if (Deliver(thread, faults.AtInstruction(context, cache.FaultOf(id).Signal, cache.FaultOf(id).Pc), out pc, out outcome)) break;
                    return outcome!;
                case ExitKind.ClientRequest:
                    stats.ClientRequests++;
                    _clientRequests.Answer(thread, exit.TargetPc);
                    pc = exit.TargetPc;
                    break;
                case ExitKind.UnboundSlot:
                    // ld.so binds the slot on the way; the stub's next call is translated with its function.
                    pc = exit.TargetPc;
                    lock (cache.Lock)
                        if (cache.OwnerOf(exit) is { Flushed: false } stub) cache.Flush(stub.ApplicationPc, stub.ApplicationEnd);
                    break;
                case ExitKind.GetNoRedirectAddress:
                    context->Rax = 0;
                    pc = exit.TargetPc;
                    break;
            }
        }
    }

    // Replaced calls return to few call sites, again and again: a direct-mapped memo of their
    // fragments spares the locked lookup (a flushed fragment fails the check and is looked up anew).
    private readonly Fragment?[] _returnSites = new Fragment?[1024];

    private Fragment ReturnSite(ulong pc, ContextBlock* context)
    {
        ref Fragment? memo = ref _returnSites[(pc ^ (pc >> 10)) & 1023];
        int mode = tool.ModeOf(context);
        if (memo is { Flushed: false } fragment && fragment.ApplicationPc == pc && fragment.Mode == mode)
            return fragment;
        return memo = Lookup(pc, mode);
    }

    /// <summary>The fragment for <paramref name="pc"/> in the mode the tool gives the current thread's state.</summary>
    private Fragment Lookup(ulong pc) => Lookup(pc, tool.ModeOf(GuestThread.Current!.Context));

    private Fragment Lookup(ulong pc, int mode)
    {
        lock (cache.Lock)
        {
            if (cache.TryGet(pc, mode, out Fragment fragment)) return fragment;
            if (!cache.TryActivate(pc, mode, out fragment)) fragment = translator.Translate(pc, mode);
            LinkOutgoing(fragment);
            if (RetranslationBenchmark.MaybeRun(cache, translator)) return Lookup(pc, mode);
            return fragment;
        }
    }

    /// <summary>
    /// Links a new fragment's direct exits to the fragments that already exist for their targets, as
    /// taking each exit once would (cc1plus: 153K links, each a round trip through the dispatcher).
    /// </summary>
    private void LinkOutgoing(Fragment fragment)
    {
        for (int id = fragment.FirstExit; id < fragment.FirstExit + fragment.ExitCount; id++)
        {
            ExitStub exit = cache.Exit(id);
            if (exit.Kind == ExitKind.Direct && cache.TryGet(exit.TargetPc, exit.TargetMode ?? fragment.Mode, out Fragment target))
                cache.Link(id, target);
        }
    }
}
