using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
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
    public sealed record Faulted(int Signal, ulong Pc, string Description) : GuestOutcome;
}

/// <summary>
/// The loop a guest thread runs in: find or translate the fragment for the next application pc,
/// enter the cache, and act on the exit that comes back (link a direct branch, fill the
/// indirect-branch table, perform a system call).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class Dispatcher(TranslationCache cache, BlockTranslator translator, SyscallEmulator syscalls, GuestProcess process,
    Instrumentation.AccessChecker? accessChecker = null)
{
    private readonly delegate* unmanaged<void> _enter = (delegate* unmanaged<void>)cache.Routines.Enter;
    private readonly delegate* unmanaged<void> _enterAfterCall = (delegate* unmanaged<void>)cache.Routines.EnterAfterCall;

    public GuestOutcome Run(GuestThread thread, ulong startPc)
    {
        ContextBlock* context = thread.Context;
        syscalls.CurrentContext = context;
        EngineStatistics stats = cache.Statistics;
        ulong pc = startPc;
        bool afterCall = false;
        ulong resumeInCache = 0;
        while (true)
        {
            // Back from a slow-path report: continue inside the fragment, right after the check.
            context->EnterTarget = resumeInCache != 0 ? resumeInCache : afterCall ? ReturnSite(pc).Entry : Lookup(pc).Entry;
            resumeInCache = 0;
            stats.DispatcherEntries++;
            if (afterCall) _enterAfterCall();
            else _enter();
            afterCall = false;

            int id = context->ExitId;
            if (id == ExitIds.IndirectMiss)
            {
                stats.IndirectMisses++;
                pc = context->NextPc;
                cache.IndirectBranches.Insert(pc, Lookup(pc).Entry);
                continue;
            }
            if (id == ExitIds.FaultInCache)
                return FaultOutcome(context);
            if (id == ExitIds.AccessError)
            {
                stats.AccessErrorExits++;
                accessChecker?.OnSlowPathError(context);
                resumeInCache = context->CheckReturn;
                continue;
            }
            ExitStub exit = cache.Exit(id);
            switch (exit.Kind)
            {
                case ExitKind.Direct:
                    pc = exit.TargetPc;
                    lock (cache.Lock) cache.Link(exit, Lookup(pc));
                    break;
                case ExitKind.Syscall:
                    stats.Syscalls++;
                    syscalls.Handle(context, exit.TargetPc);
                    if (process.KilledBySignal != 0) return new GuestOutcome.Signalled(process.KilledBySignal);
                    if (process.Exited) return new GuestOutcome.Exited(process.ExitStatus);
                    pc = exit.TargetPc;
                    break;
                case ExitKind.Intercept when exit.Function is { } replaced && exit.Owner is { Flushed: false }:
                    stats.InterceptedCalls++;
                    context->Rax = replaced.Handler(context);
                    // The replaced function's ret.
                    pc = *(ulong*)context->Rsp;
                    context->Rsp += 8;
                    afterCall = true;
                    break;
                case ExitKind.Intercept:
                    pc = exit.TargetPc;   // no longer replaced (module unmapped and reloaded): run it
                    lock (cache.Lock) cache.Flush(pc, pc + 1);
                    break;
                case ExitKind.Fault:
                    return new GuestOutcome.Faulted(exit.FaultSignal, exit.FaultPc, Describe(exit.FaultPc));
            }
        }
    }

    private GuestOutcome FaultOutcome(ContextBlock* context)
    {
        Fragment? fragment;
        lock (cache.Lock) fragment = cache.FindByCachePc(context->FaultCachePc);
        if (fragment == null)
            return new GuestOutcome.Faulted(context->FaultSignal, 0, $"in engine code at cache address 0x{context->FaultCachePc:x}");
        ulong pc = fragment.ApplicationPcAt(context->FaultCachePc);
        string access = context->FaultSignal is Signals.SIGSEGV or Signals.SIGBUS ? $", accessing 0x{context->FaultAddress:x}" : "";
        return new GuestOutcome.Faulted(context->FaultSignal, pc, Describe(pc) + access);
    }

    // Replaced calls return to few call sites, again and again: a direct-mapped memo of their
    // fragments spares the locked lookup (a flushed fragment fails the check and is looked up anew).
    private readonly Fragment?[] _returnSites = new Fragment?[1024];

    private Fragment ReturnSite(ulong pc)
    {
        ref Fragment? memo = ref _returnSites[(pc ^ (pc >> 10)) & 1023];
        if (memo is { Flushed: false } fragment && fragment.ApplicationPc == pc) return fragment;
        return memo = Lookup(pc);
    }

    private Fragment Lookup(ulong pc)
    {
        lock (cache.Lock)
            return cache.TryGet(pc, out Fragment fragment) ? fragment : translator.Translate(pc);
    }

    private static string Describe(ulong pc)
    {
        var decoder = Iced.Intel.Decoder.Create(64, new GuestCodeReader(pc), pc);
        decoder.Decode(out Iced.Intel.Instruction ins);
        int length = Math.Max(ins.Length, 1);
        string bytes = Convert.ToHexString(GuestCodeReader.Bytes(pc, Math.Min(length, 15))).ToLowerInvariant();
        string text = ins.Code == Iced.Intel.Code.INVALID ? "(invalid)" : ins.ToString();
        string module = Memory.ModuleLocator.Describe(pc) is string m ? $" in {m}" : "";
        return $"'{text}' (bytes {bytes}){module}";
    }
}
