using Checker.Engine.Native;
using Checker.MemcheckTool.Heap;
using Codes = Checker.MemcheckTool.ClientRequests.MemcheckRequestCodes;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// VALGRIND_DO_LEAK_CHECK and its forms (arg 1: 0 full, 1 summary; arg 2: 0 all, 1 increased, 2
/// changed, 3 new), run now as a nudge's is (every other thread stopped, the scan, the report), and
/// VALGRIND_COUNT_LEAKS / COUNT_LEAK_BLOCKS, which write what the last check found into the
/// program's four words (leaked, dubious, reachable, suppressed).
/// </summary>
public sealed unsafe partial class MemcheckClientRequests
{
    private void AddLeakRequests()
    {
        Add(Codes.DoLeakCheck, DoLeakCheck);
        Add(Codes.CountLeaks, c => WriteCounts(c, LastLeakCounts.LeakedBytes, LastLeakCounts.DubiousBytes, LastLeakCounts.ReachableBytes));
        Add(Codes.CountLeakBlocks, c => WriteCounts(c, LastLeakCounts.LeakedBlocks, LastLeakCounts.DubiousBlocks, LastLeakCounts.ReachableBlocks));
    }

    private ulong? DoLeakCheck(RequestCall call)
    {
        var request = new LeakCheckRequest(call.Request.Arg1 != 1, call.Request.Arg2 switch
        {
            1 => LeakDelta.Increased,
            2 => LeakDelta.Changed,
            3 => LeakDelta.New,
            _ => LeakDelta.Any,
        });
        if (_scanNow() is not IReadOnlyList<LeakedBlock> leaks) return 0;
        IReadOnlyList<LeakedBlock> shown;
        lock (_lock) shown = _deltas.Select(leaks, request.Delta);
        Reports.LeakChecks?.Invoke(request.Full ? shown : leaks, request);
        return 0;
    }

    private static ulong? WriteCounts(RequestCall call, ulong leaked, ulong dubious, ulong reachable)
    {
        GuestMemory.TryWriteUInt64(call.Request.Arg1, leaked);
        GuestMemory.TryWriteUInt64(call.Request.Arg2, dubious);
        GuestMemory.TryWriteUInt64(call.Request.Arg3, reachable);
        GuestMemory.TryWriteUInt64(call.Request.Arg4, 0);   // nothing is suppressed
        return 0;
    }
}
