using System.Runtime.Versioning;
using Checker.Engine.State;
using Checker.Engine.Syscalls;
using Checker.MemcheckTool.State;
using Checker.Shadow;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// The stacks of threads other than the main one, as stack tracking sees them: a thread's stack is
/// tracked like the main one when it is an anonymous mapping of the guest (glibc's thread stacks):
/// addressable from its initial rsp down as it grows, the 1 MiB below unaddressable. Any other
/// stack (inside a heap block, say) is left alone.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class ThreadStacks(ShadowMemory shadow, GuestProcess process)
{
    // Thread stacks whose shadow Track marked: the only guest mappings with marks in their shadow.
    private readonly List<(ulong Low, ulong Top)> _marked = [];

    public void Track(ContextBlock* c, ulong stack)
    {
        ref ulong limit = ref MemcheckSlots.At<ulong>(c, MemcheckSlots.StackLimit);
        ref ulong top = ref MemcheckSlots.At<ulong>(c, MemcheckSlots.StackTop);
        limit = top = 0;
        if (stack == 0 || process.AnonymousMappingAt(stack - 1) is not (ulong low, ulong _)) return;
        limit = low;
        top = stack;
        ulong openFrom = stack - StackTracking.RedZone - StackTracking.Slack;
        if (openFrom <= low) return;
        ulong closedFrom = Math.Max(low, openFrom - StackTracking.InitialUnaddressable);
        shadow.Set(closedFrom, openFrom - closedFrom, ShadowState.Unaddressable);
        lock (_marked)
            if (!_marked.Contains((low, stack))) _marked.Add((low, stack));
    }

    /// <summary>
    /// munmap of a thread's stack: its shadow goes back to defined, so whatever is mapped there later
    /// starts clean. Other unmapped memory has nothing marked (resetting every munmap would cost
    /// allocators that map and unmap arenas all the time).
    /// </summary>
    public void Forget(ulong start, ulong end)
    {
        lock (_marked)
        {
            for (int i = _marked.Count - 1; i >= 0; i--)
            {
                (ulong low, ulong top) = _marked[i];
                if (end <= low || start >= top) continue;
                ulong from = Math.Max(start, low), to = Math.Min(end, top);
                shadow.Set(from, to - from, ShadowState.Defined);
                if (from == low && to == top) _marked.RemoveAt(i);
            }
        }
    }
}
