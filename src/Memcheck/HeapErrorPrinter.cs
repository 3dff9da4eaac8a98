using Checker.Engine.Heap;
using Checker.Symbols.Demangling;

namespace Checker.Memcheck;

/// <summary>
/// Prints invalid heap arguments as they happen, Dr. Memory style: numbered, repeats (same kind and
/// call site) counted instead of reprinted, with the block's allocation and free stacks.
/// </summary>
public sealed class HeapErrorPrinter(FrameSymbolizer symbolizer, TextWriter output)
{
    private readonly Dictionary<(HeapErrorKind, ulong), int> _seen = new();

    public int Unique => _seen.Count;
    public int Total { get; private set; }

    public void Report(HeapError error)
    {
        Total++;
        var identity = (error.Kind, error.Stack.FirstOrDefault());
        if (_seen.ContainsKey(identity)) return;
        _seen[identity] = _seen.Count + 1;
        output.WriteLine($"memcheck: Error #{_seen.Count}: INVALID HEAP ARGUMENT: {Describe(error)}");
        foreach (string frame in symbolizer.Describe(error.Stack)) output.WriteLine($"memcheck:   {frame}");
        if (error.Chunk is HeapChunk chunk)
        {
            output.WriteLine($"memcheck: Note: the {chunk.Size}-byte block at 0x{chunk.User:x} was allocated here:");
            foreach (string frame in symbolizer.Describe(chunk.AllocStack)) output.WriteLine($"memcheck:   {frame}");
            if (chunk.FreeStack is ulong[] freed)
            {
                output.WriteLine("memcheck: Note: and freed here:");
                foreach (string frame in symbolizer.Describe(freed)) output.WriteLine($"memcheck:   {frame}");
            }
        }
    }

    public void PrintSummary()
    {
        output.WriteLine(Total == 0
            ? "memcheck: NO ERRORS FOUND"
            : $"memcheck: ERRORS FOUND: {Unique} unique, {Total} total invalid heap argument(s)");
    }

    private static string Describe(HeapError error)
    {
        HeapError e = error with { Routine = Demangler.Demangle(error.Routine) };
        return Text(e);
    }

    private static string Text(HeapError e) => e.Kind switch
    {
        HeapErrorKind.DoubleFree => $"{e.Routine} 0x{e.Address:x}: the block was already freed (double free)",
        HeapErrorKind.FreeOfNonHeapAddress => $"{e.Routine} 0x{e.Address:x}: not a heap address",
        HeapErrorKind.FreeOfInteriorPointer => $"{e.Routine} 0x{e.Address:x}: points inside a block, not at its start",
        HeapErrorKind.MismatchedFree => $"{e.Routine} 0x{e.Address:x}: allocated with {Family(e.Chunk!.Kind)}, freed with {e.Routine}",
        _ => e.Kind.ToString(),
    };

    private static string Family(AllocationKind kind) => kind switch
    {
        AllocationKind.Malloc => "malloc",
        AllocationKind.New => "operator new",
        _ => "operator new[]",
    };
}
