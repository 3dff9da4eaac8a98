using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// What the leak scan looks at once the program describes its own blocks: the heap's live blocks and
/// the custom ones (MALLOCLIKE blocks, pool chunks), except a block that holds another one, as
/// Valgrind ignores a malloc'd superblock its allocator carves custom blocks from ("block B will be
/// ignored during leak-checking -- the custom blocks will take precedence"), and a metapool's
/// chunks holding MALLOCLIKE blocks. The scan then finds each custom block through pointers to it.
/// </summary>
internal static class LeakCandidates
{
    public static IReadOnlyCollection<HeapChunk> Merge(IReadOnlyCollection<HeapChunk> heap, IEnumerable<HeapChunk> custom)
    {
        HeapChunk[] all = [.. heap, .. custom];
        if (all.Length == heap.Count) return heap;
        Array.Sort(all, (a, b) => a.User != b.User ? a.User.CompareTo(b.User) : b.Size.CompareTo(a.Size));
        var kept = new List<HeapChunk>(all.Length);
        for (int i = 0; i < all.Length; i++)
        {
            HeapChunk outer = all[i];
            ulong end = outer.User + outer.Size;
            bool holdsAnother = false;
            // Sorted by start (the larger first at one start): what it holds starts before its end.
            for (int j = i + 1; j < all.Length && all[j].User < Math.Max(end, outer.User + 1); j++)
                if (all[j].User + all[j].Size <= end && all[j].User >= outer.User) { holdsAnother = true; break; }
            if (!holdsAnother) kept.Add(outer);
        }
        return kept;
    }
}
