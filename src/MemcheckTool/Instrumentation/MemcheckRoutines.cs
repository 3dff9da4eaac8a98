using Checker.Engine.CodeCache;
using Checker.Engine.Emission;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>memcheck's shared routines in the code cache (reached by jump-and-link) and the table of checked sites.</summary>
public sealed class MemcheckRoutines
{
    public MemcheckRoutines(TranslationCache cache, bool undefinedFrames)
    {
        CodeRegion region = cache.Region;
        AccessCheckRoutine.Entries check = AccessCheckRoutine.Generate(region, cache.Routines.Exit, Sites.Descriptors);
        AccessCheck = check.Entry;
        AccessCheckFromSite = check.FromSite;
        AccessCheckFromMaskedSite = check.FromMaskedSite;
        StackAdjust = StackTracking.GenerateRoutine(region, undefinedFrames);
        if (undefinedFrames)
        {
            StackAdjustRelative = StackTracking.GenerateRoutine(region, undefinedFrames, relative: true);
            ForeignCall = ForeignStacks.GenerateCallRoutine(region);
            CallShadow = PushAndCallShadow.GenerateCallRoutines(region, ForeignCall);
            // The propagating mode's hit paths' shape stores (reserved address space; only what is used is touched).
            SharedShapes = new SharedCode(region, 4 << 20);
            if (LazyStubs.Enabled) LazyHitRoutine = Definedness.LazyHits.GenerateRoutine(region, cache.Routines.Exit);
        }
        VsibCheck = Instrumentation.VsibCheck.GenerateRoutine(region, AccessCheck, cache.Routines.Exit);
        StringCheck = StringCheckRoutine.Generate(region, AccessCheck);
        HotLanes = new HotLaneSites(region);
        ExactLanes = new ExactLaneCheck(region, HotLanes.Counters, cache.Routines.Exit);
        if (LazyStubs.Enabled) LazyStubRoutines = LazyStubs.GenerateRoutines(region, cache.Routines.Exit);
    }

    /// <summary>The lazy hits' exit (<see cref="Definedness.LazyHits"/>; 0: every hit path is made with its fragment, or no definedness).</summary>
    public ulong LazyHitRoutine { get; }

    /// <summary>The lazy stubs' exits by scratch register (<see cref="LazyStubs"/>; null: every stub is made with its fragment).</summary>
    public ulong[]? LazyStubRoutines { get; }

    /// <summary>The sites whose exact-lane test runs often enough to be their own.</summary>
    public HotLaneSites HotLanes { get; }

    /// <summary>The stubs' exact test of an access's own lanes, before the routine.</summary>
    public ExactLaneCheck ExactLanes { get; }

    /// <summary>The shared slow path of inline access checks.</summary>
    public ulong AccessCheck { get; }
    /// <summary>Its entries for access stubs, which leave size and kind to the site's descriptor (<see cref="AccessSiteTable.Describe"/>).</summary>
    public ulong AccessCheckFromSite { get; }
    public ulong AccessCheckFromMaskedSite { get; }
    /// <summary>Updates the stack's shadow after rsp is set.</summary>
    public ulong StackAdjust { get; }
    /// <summary>As <see cref="StackAdjust"/> for adjustments computed from rsp: also paints frames on foreign stacks (0 without definedness).</summary>
    public ulong StackAdjustRelative { get; }
    /// <summary>A call's red zone and return slot on a foreign stack (0 without definedness).</summary>
    public ulong ForeignCall { get; }
    /// <summary>A call's red zone and return slot, by dead register (<see cref="PushAndCallShadow.GenerateCallRoutines"/>; empty without definedness).</summary>
    public ulong[] CallShadow { get; } = [];
    /// <summary>The propagating mode's shared shape stores (<see cref="Definedness.PropagationEmitter"/>; null without definedness).</summary>
    public SharedCode? SharedShapes { get; }
    /// <summary>Checks each active lane of a gather or scatter.</summary>
    public ulong VsibCheck { get; }
    /// <summary>The front of the access check for string instructions (count, direction).</summary>
    public ulong StringCheck { get; }
    /// <summary>Every checked access site, by the id its stub writes into the context block.</summary>
    public AccessSiteTable Sites { get; } = new();
}
