using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// Custom blocks the program freed (FREELIKE, MEMPOOL_FREE, a trim), remembered up to
/// --delay-frees bytes so an access to one is described as a use after free with both stacks, as
/// Valgrind keeps its freed queue for custom blocks too. Only descriptions: the memory is the
/// program's, which may reuse it at once.
/// </summary>
internal sealed class FreedCustomBlocks(ulong volume)
{
    private readonly LinkedList<HeapChunk> _queue = new();
    private ulong _bytes;

    public void Add(HeapChunk chunk)
    {
        _queue.AddLast(chunk);
        _bytes += chunk.Size;
        while (_bytes > volume && _queue.Count > 1)
        {
            _bytes -= _queue.First!.Value.Size;
            _queue.RemoveFirst();
        }
    }

    /// <summary>The newest freed block whose bytes hold <paramref name="address"/>, or null.</summary>
    public HeapChunk? Holding(ulong address)
    {
        for (var node = _queue.Last; node != null; node = node.Previous)
            if (address >= node.Value.User && address < node.Value.User + node.Value.Size) return node.Value;
        return null;
    }

    /// <summary>The newest freed block within its description margin of <paramref name="address"/>, or null.</summary>
    public HeapChunk? Near(ulong address)
    {
        for (var node = _queue.Last; node != null; node = node.Previous)
            if (node.Value.ContainsBlockAddress(address)) return node.Value;
        return null;
    }

    /// <summary>Whether the newest block freed at <paramref name="user"/> is in the queue (a second free of it is a double free).</summary>
    public HeapChunk? FreedAt(ulong user)
    {
        for (var node = _queue.Last; node != null; node = node.Previous)
            if (node.Value.User == user) return node.Value;
        return null;
    }
}
