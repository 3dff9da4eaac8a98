using System.Globalization;

namespace Checker.Engine.Heap;

/// <summary>A leaked block (or group): the block, the bytes lost with it through pointers from it, and whether only an interior pointer reaches it.</summary>
public sealed record LeakedBlock(HeapChunk Chunk, bool Possible, ulong IndirectBytes, int IndirectBlocks);

/// <summary>
/// The reachability scan at exit (Valgrind's and Dr. Memory's leak check, simplified): every
/// aligned word of the roots (guest registers, stack, the writable segments of loaded modules,
/// the guest's own anonymous mappings and brk heap) is a potential pointer. Blocks reached through
/// a pointer to their start are in use; blocks reached only through interior pointers are possible
/// leaks; the rest are leaks, and a leaked block reached only from other leaked blocks counts as
/// indirectly lost, its bytes added to the leak that holds it. Only readable mappings are read.
/// </summary>
public static unsafe class LeakScanner
{
    public static IReadOnlyList<LeakedBlock> Scan(IReadOnlyCollection<HeapChunk> live, IEnumerable<ulong> registerRoots, IEnumerable<(ulong Start, ulong End)> memoryRoots)
    {
        HeapChunk[] chunks = live.OrderBy(c => c.User).ToArray();
        ulong[] starts = chunks.Select(c => c.User).ToArray();
        var state = new byte[chunks.Length];   // 0 unreached, 1 interior only, 2 reached
        var readable = ReadableRanges();
        var work = new Stack<int>();

        void Consider(ulong value, bool fromRoot)
        {
            int i = Array.BinarySearch(starts, value);
            if (i >= 0)
            {
                if (state[i] != 2) { state[i] = 2; work.Push(i); }
                return;
            }
            i = ~i - 1;
            if (i >= 0 && value < chunks[i].User + Math.Max(chunks[i].Size, 1) && state[i] == 0)
            {
                state[i] = 1;
                work.Push(i);
            }
        }

        foreach (ulong value in registerRoots) Consider(value, fromRoot: true);
        foreach ((ulong start, ulong end) in memoryRoots)
            foreach ((ulong s, ulong e) in Intersect(start, end, readable))
                for (ulong a = (s + 7) & ~7UL; a + 8 <= e; a += 8) Consider(*(ulong*)a, fromRoot: true);
        while (work.Count > 0)
        {
            HeapChunk c = chunks[work.Pop()];
            for (ulong a = c.User; a + 8 <= c.User + c.Size; a += 8) Consider(*(ulong*)a, fromRoot: false);
        }

        // Leaked blocks: which of them are held by another leaked block (indirect)?
        var leaked = Enumerable.Range(0, chunks.Length).Where(i => state[i] == 0).ToArray();
        var heldByLeak = new HashSet<int>();
        var children = new Dictionary<int, List<int>>();
        foreach (int i in leaked)
        {
            HeapChunk c = chunks[i];
            for (ulong a = c.User; a + 8 <= c.User + c.Size; a += 8)
            {
                int j = Array.BinarySearch(starts, *(ulong*)a);
                if (j < 0 || j == i || state[j] != 0) continue;
                if (heldByLeak.Add(j)) (children.TryGetValue(i, out var list) ? list : children[i] = []).Add(j);
            }
        }

        var result = new List<LeakedBlock>();
        foreach (int i in leaked.Where(i => !heldByLeak.Contains(i)))
        {
            (ulong bytes, int blocks) = Indirect(i, children, chunks, new HashSet<int> { i });
            result.Add(new LeakedBlock(chunks[i], Possible: false, bytes, blocks));
        }
        foreach (int i in Enumerable.Range(0, chunks.Length).Where(i => state[i] == 1))
            result.Add(new LeakedBlock(chunks[i], Possible: true, 0, 0));
        return result;
    }

    private static (ulong Bytes, int Blocks) Indirect(int i, Dictionary<int, List<int>> children, HeapChunk[] chunks, HashSet<int> seen)
    {
        ulong bytes = 0;
        int blocks = 0;
        if (!children.TryGetValue(i, out var list)) return (0, 0);
        foreach (int j in list)
        {
            if (!seen.Add(j)) continue;
            (ulong b, int n) = Indirect(j, children, chunks, seen);
            bytes += chunks[j].Size + b;
            blocks += 1 + n;
        }
        return (bytes, blocks);
    }

    private static List<(ulong Start, ulong End)> ReadableRanges()
    {
        var ranges = new List<(ulong, ulong)>();
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            string[] f = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 2 || f[1][0] != 'r') continue;
            int dash = f[0].IndexOf('-');
            ranges.Add((ulong.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber), ulong.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber)));
        }
        return ranges;
    }

    private static IEnumerable<(ulong, ulong)> Intersect(ulong start, ulong end, List<(ulong Start, ulong End)> readable)
    {
        foreach ((ulong s, ulong e) in readable)
        {
            ulong a = Math.Max(s, start), b = Math.Min(e, end);
            if (a < b) yield return (a, b);
        }
    }
}
