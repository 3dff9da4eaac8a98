using Checker.MemcheckTool.State;
using Checker.MemcheckTool.Heap;
using Checker.Engine.State;
using Checker.Shadow;
using Checker.Symbols.Unwinding;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// The C# end of an access check: the slow-path routine found an unaddressable byte and left the
/// cache. Decides whether it is an error (aligned vector loads that reach past the end of a block
/// but touch some addressable byte are allowed, as Valgrind's --partial-loads-ok: optimized code
/// reads whole aligned vectors), says where it went, captures the callstack and emits an
/// <see cref="AccessError"/>.
/// </summary>
public sealed unsafe class AccessChecker(ShadowMemory shadow, GuestHeap heap, AccessSiteTable sites,
    int maxFrames, FrameRuleCache? rules)
{
    public Action<AccessError>? Errors { get; set; }

    /// <summary>Names ranges the program described (VALGRIND_CREATE_BLOCK); set by the tool.</summary>
    public Func<ulong, string?>? DescribeClientBlock { get; set; }

    public void OnSlowPathError(ContextBlock* context)
    {
        AccessSite site = sites[MemcheckSlots.At<int>(context, MemcheckSlots.CheckSite)];
        ulong address = MemcheckSlots.At<ulong>(context, MemcheckSlots.CheckAddress);
        if (site.Parts is not { } parts)
        {
            Check(context, site.Pc, address, MemcheckSlots.At<ulong>(context, MemcheckSlots.CheckSize), site.Access.IsWrite, site.Access.Extent == AccessExtent.Fixed,
                MemcheckSlots.At<ulong>(context, MemcheckSlots.CheckMask), MemcheckSlots.At<int>(context, MemcheckSlots.CheckElementShift));
            return;
        }
        // A merged check: each access it stands for, at its own instruction.
        foreach (MergedAccess part in parts)
            Check(context, part.Pc, address + (ulong)part.Offset, (ulong)part.Size, part.IsWrite, fixedSize: true, ulong.MaxValue, 63);
    }

    private void Check(ContextBlock* context, ulong pc, ulong address, ulong size, bool write, bool fixedSize, ulong mask, int shift)
    {
        ulong? bad = null;
        bool anyAddressable = false;
        for (ulong i = 0; i < size; i++)
        {
            if (shift < 63 && ((mask >> (int)(i >> shift)) & 1) == 0) continue;
            if (shadow.Get(address + i) == ShadowState.Unaddressable) bad ??= address + i;
            else anyAddressable = true;
            if (bad != null && anyAddressable) break;
        }
        if (bad is not ulong first) return;
        ulong rsp = context->Rsp;
        // The stack this thread's shadow tracks (empty for a stack memcheck does not track).
        ulong stackLow = MemcheckSlots.At<ulong>(context, MemcheckSlots.StackLimit), stackTop = MemcheckSlots.At<ulong>(context, MemcheckSlots.StackTop);
        if (first >= stackLow && first < stackTop && first >= rsp - StackTracking.RedZone)
        {
            // Pushes and calls outran the stack shadow's slack: this is live stack. Re-open it.
            ulong from = rsp - StackTracking.RedZone - StackTracking.Slack;
            shadow.Set(from, Math.Min(address + size, stackTop) - from, ShadowState.Defined);
            return;
        }
        // A masked load selected the bad lane itself: not a whole-vector over-read.
        bool partialLoad = !write && fixedSize && shift == 63 && size >= 16 && address % size == 0;
        if (partialLoad && anyAddressable) return;

        ulong[] stack = CallstackCapture.CaptureAt(pc, rsp, context->Gpr[5], context->UnwindTop, maxFrames, rules);
        Errors?.Invoke(Describe(write, address, size, first, rsp, stackLow, stackTop, stack) with { ClientBlock = DescribeClientBlock?.Invoke(first) });
    }

    private AccessError Describe(bool write, ulong address, ulong size, ulong bad, ulong rsp, ulong stackLow, ulong stackTop, ulong[] stack)
    {
        if (heap.FindBlock(bad) is HeapChunk chunk)
        {
            if (chunk.Freed)
                return new(AccessErrorPlace.FreedMemory, write, address, size, address >= chunk.User ? address - chunk.User : 0, false, stack, chunk);
            ulong end = chunk.User + chunk.Size;
            return bad < chunk.User
                ? new(AccessErrorPlace.BeyondHeapBounds, write, address, size, chunk.User - address, true, stack, chunk)
                : new(AccessErrorPlace.BeyondHeapBounds, write, address, size, address >= end ? address - end : 0, false, stack, chunk);
        }
        if (bad >= stackLow && bad < stackTop)
            return new(AccessErrorPlace.BeyondTopOfStack, write, address, size, rsp > address ? rsp - address : 0, false, stack, null);
        return new(AccessErrorPlace.UnallocatedHeap, write, address, size, 0, false, stack, null);
    }
}
