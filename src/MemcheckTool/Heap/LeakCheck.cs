using System.Runtime.Versioning;
using Checker.Engine.Dispatch;
using Checker.Engine.Memory;
using Checker.Engine.State;
using Checker.Engine.Tools;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The leak scan's roots, gathered from the engine's view of the process: every thread's registers
/// and stack (the thread ending the process from its exit path), brk, writable module segments,
/// the guest's anonymous mappings.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class LeakCheck(ToolHost host, GuestHeap heap)
{
    /// <summary>Every thread stopped at a safe point, scanned, and let go (a nudge); null when the process is ending.</summary>
    public IReadOnlyList<LeakedBlock>? ScanNow()
    {
        IReadOnlyList<LeakedBlock>? leaks = null;
        // The cache lock too: no thread is in the allocator while its blocks are read.
        host.Process.Threads.WhileStopped(() => { lock (host.Cache.Lock) leaks = Scan(); });
        return leaks;
    }

    /// <summary>The blocks to classify, from the heap's live ones (client requests add the program's own blocks); null: the heap's.</summary>
    public Func<IReadOnlyCollection<HeapChunk>, IReadOnlyCollection<HeapChunk>>? Candidates { get; set; }

    /// <summary>The bytes and blocks the last scan classified.</summary>
    public (ulong Bytes, ulong Blocks) LastScanned { get; private set; }

    public IReadOnlyList<LeakedBlock> Scan()
    {
        IReadOnlyCollection<HeapChunk> blocks = Candidates?.Invoke(heap.LiveChunks) ?? heap.LiveChunks;
        ulong bytes = 0;
        foreach (HeapChunk chunk in blocks) bytes += chunk.Size;
        LastScanned = (bytes, (ulong)blocks.Count);
        // No block, nothing to find: the roots (every thread's stack and registers, the writable
        // segments, anonymous mappings) are not walked (a short program's exit, /bin/true's).
        if (blocks.Count == 0) return [];
        var process = host.Process;
        var interceptor = host.Interceptor!;
        var registers = new List<ulong>();
        var memory = new List<(ulong, ulong)> { (AddressSpaceLayout.BrkStart, process.Brk.Current) };
        foreach (GuestThread thread in process.Threads.Live)
        {
            ContextBlock* c = thread.Context;
            registers.Add(c->GuestFsBase);
            registers.Add(c->GuestGsBase);
            bool exiting = thread == GuestThread.Current && process.Exited;
            (List<ulong> held, ulong stackFrom) = ExitPathRoots.Find(c, exiting, interceptor.LocateRange("exit"), c->UnwindTop, process.Modules.Find);
            registers.AddRange(held);
            if (stackFrom < c->UnwindTop) memory.Add((stackFrom, c->UnwindTop));
        }
        memory.AddRange(process.Modules.WritableSegments);
        memory.AddRange(process.AnonymousMappings);
        return LeakScanner.Scan(blocks, registers, memory);
    }
}
