namespace Checker.MemcheckTool.Heap;

/// <summary>Why an interior pointer counts as a pointer to the block's start (Valgrind's --leak-check-heuristics names).</summary>
public enum LeakHeuristic : byte { None, StdString, Length64, NewArray, MultipleInheritance }

/// <summary>
/// Valgrind's leak-check heuristics (all on by default since 3.11; Dr. Memory has the same ones,
/// described in its CGO'11 paper): interior pointers that well-known layouts keep instead of a
/// pointer to the block's start, so the block is in use, not a possible leak.
/// <list type="bullet">
/// <item>stdstring: the old (copy-on-write) std::string points at its characters, after a header of
/// length, capacity and refcount; the block is header + capacity + 1 and length &lt;= capacity.</item>
/// <item>length64: one word in, after a 64-bit count of the bytes that follow (sqlite's allocator).</item>
/// <item>newarray: one word in, after new[]'s element count, which divides the rest of the block.</item>
/// <item>multipleinheritance: at a vtable pointer inside an object whose first word is a vtable pointer too.</item>
/// </list>
/// </summary>
public static unsafe class LeakHeuristics
{
    private const ulong Word = 8;
    private const ulong PageSize = 4096;
    // A vtable: up to this many words, null or pointing into executable file mappings, two of them non-null.
    private const int VtableWordsChecked = 20;

    /// <summary>The heuristic that makes <paramref name="pointer"/> (inside the block, not at its start) a pointer to the block, or None.</summary>
    public static LeakHeuristic Match(ulong pointer, ulong user, ulong size, MappedRegions regions)
    {
        if (pointer == user + 3 * Word && size > 3 * Word && TryWord(user + Word, user, size, regions, out ulong capacity)
            && capacity == size - 3 * Word - 1 && TryWord(user, user, size, regions, out ulong length) && length <= capacity)
            return LeakHeuristic.StdString;
        if (pointer == user + Word && TryWord(user, user, size, regions, out ulong count) && count > 0)
        {
            if (count == size - Word) return LeakHeuristic.Length64;
            if ((size - Word) % count == 0) return LeakHeuristic.NewArray;
        }
        if ((pointer & (Word - 1)) == 0 && TryWord(pointer, user, size, regions, out ulong inner) && TryWord(user, user, size, regions, out ulong first)
            && IsVtable(inner, regions) && IsVtable(first, regions))
            return LeakHeuristic.MultipleInheritance;
        return LeakHeuristic.None;
    }

    // A word of the block itself (never its redzone), when the program left it readable.
    private static bool TryWord(ulong address, ulong user, ulong size, MappedRegions regions, out ulong value)
    {
        value = 0;
        if (address < user || address + Word > user + size || !regions.IsReadable(address, Word)) return false;
        value = *(ulong*)address;
        return true;
    }

    private static bool IsVtable(ulong address, MappedRegions regions)
    {
        if ((address & (Word - 1)) != 0 || address < PageSize) return false;
        (MappedRegions.Access access, ulong end) = regions.At(address);
        const MappedRegions.Access readableFile = MappedRegions.Access.File | MappedRegions.Access.Read;
        if ((access & readableFile) != readableFile) return false;
        int functions = 0;
        for (int i = 0; i < VtableWordsChecked && address + Word <= end; i++, address += Word)
        {
            ulong target = *(ulong*)address;
            if (target == 0) continue;
            const MappedRegions.Access code = MappedRegions.Access.File | MappedRegions.Access.Execute;
            if ((regions.At(target).Access & code) != code) return false;
            if (++functions == 2) return true;
        }
        return false;
    }
}
