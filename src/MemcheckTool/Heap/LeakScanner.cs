using Checker.Symbols.Unwinding;

namespace Checker.MemcheckTool.Heap;

/// <summary>How the scan classified a live block, in Valgrind's terms.</summary>
public enum LeakState : byte
{
    /// <summary>Definitely lost: no pointer reaches it (or only pointers from blocks of its own cycle).</summary>
    Unreached,
    /// <summary>Possibly lost: reached only along a path with a pointer into the middle of a block.</summary>
    Possible,
    /// <summary>Still reachable: pointers to block starts lead to it from the roots.</summary>
    Reachable,
    /// <summary>Indirectly lost: reached only from a definitely lost block.</summary>
    IndirectLeak,
}

/// <summary>
/// The reachability scan at exit, Valgrind's algorithm (mc_leakcheck.c). Roots are the guest
/// registers and every aligned word of the root ranges (the stack from the guest's rsp up, or from
/// exit()'s caller's: <see cref="ExitPathRoots"/>; the writable segments of loaded modules, the
/// guest's anonymous mappings, the brk heap), read only where they are readable. Blocks reached from the roots through pointers to their start (or
/// interior pointers a <see cref="LeakHeuristics">heuristic</see> accepts) are reachable; a block
/// reached only along a path with an interior pointer is possibly lost, and so is everything it
/// leads to. Then the unreached blocks are grouped into cliques, in address order: each unreached
/// block not yet in a clique leads one (a definite leak) and every unreached block it leads to is
/// indirectly lost, its bytes added to the leader's. A cycle of lost blocks (a ring, a
/// doubly-linked list) is thus one definite leak led by its lowest block.
/// </summary>
public static unsafe class LeakScanner
{
    private const ulong Word = 8;
    private const int RootChunk = 64 * 1024;
    // A block this large may be mostly untouched (a big buffer malloc'd and partly used): only its
    // written pages are scanned. Smaller ones are read whole (the arena is populated anyway).
    private const ulong LargeBlock = 64 * 1024;

    public static IReadOnlyList<LeakedBlock> Scan(IReadOnlyCollection<HeapChunk> live, IEnumerable<ulong> registerRoots, IEnumerable<(ulong Start, ulong End)> memoryRoots) =>
        Classify(live, registerRoots, memoryRoots, MappedRegions.OfCurrentProcess()).Leaks;

    /// <summary>The whole classification: every block's state (by address) and the leak records.</summary>
    public static LeakScanResult Classify(IReadOnlyCollection<HeapChunk> live, IEnumerable<ulong> registerRoots,
        IEnumerable<(ulong Start, ulong End)> memoryRoots, MappedRegions regions)
    {
        HeapChunk[] chunks = live.ToArray();
        ulong[] starts = new ulong[chunks.Length];
        for (int i = 0; i < chunks.Length; i++) starts[i] = chunks[i].User;
        Array.Sort(starts, chunks);
        using var written = WrittenPages.OfCurrentProcess();
        var scan = new Marking(chunks, starts, regions, written);
        foreach (ulong value in registerRoots) scan.FromRoot(value);
        foreach ((ulong start, ulong end) in memoryRoots) scan.Roots(start, end);
        scan.MarkReachable();
        scan.GatherCliques();
        return scan.Result();
    }

    private sealed class Marking(HeapChunk[] chunks, ulong[] starts, MappedRegions regions, WrittenPages written)
    {
        private readonly ulong[] _starts = starts;
        // Most words are not heap pointers at all: one compare with the heap's span rejects them.
        private readonly ulong _low = starts.Length > 0 ? starts[0] : ulong.MaxValue;
        private readonly ulong _high = starts.Length > 0 ? chunks[^1].User + Math.Max(chunks[^1].Size, 1) : 0;
        private readonly LeakState[] _state = new LeakState[chunks.Length];
        private readonly LeakHeuristic[] _heuristic = new LeakHeuristic[chunks.Length];
        private readonly bool[] _pending = new bool[chunks.Length];
        private readonly Stack<int> _markStack = new();
        // For a clique leader: the bytes and blocks lost through it.
        private readonly ulong[] _indirectBytes = new ulong[chunks.Length];
        private readonly int[] _indirectBlocks = new int[chunks.Length];
        private readonly byte[] _buffer = new byte[RootChunk];

        /// <summary>The block whose bytes (a zero-sized block: its one address) hold <paramref name="value"/>, or -1.</summary>
        private int BlockAt(ulong value)
        {
            if (value - _low >= _high - _low) return -1;
            int i = Array.BinarySearch(_starts, value);
            if (i >= 0) return i;
            i = ~i - 1;
            return i >= 0 && value < chunks[i].User + Math.Max(chunks[i].Size, 1) ? i : -1;
        }

        private void Push(int i)
        {
            if (_pending[i]) return;
            _pending[i] = true;
            _markStack.Push(i);
        }

        public void FromRoot(ulong value) => Reach(value, priorDefinite: true);

        // Valgrind's lc_push_without_clique_if_a_chunk_ptr: upgrade Unreached -> Possible -> Reachable.
        private void Reach(ulong value, bool priorDefinite)
        {
            int i = BlockAt(value);
            if (i < 0) return;
            if (_state[i] == LeakState.Reachable)
            {
                if (value == _starts[i]) _heuristic[i] = LeakHeuristic.None;   // reached directly after all
                return;
            }
            bool viaStart = value == _starts[i];
            if (!viaStart)
            {
                _heuristic[i] = LeakHeuristics.Match(value, chunks[i].User, chunks[i].Size, regions);
                viaStart = _heuristic[i] != LeakHeuristic.None;
            }
            if (viaStart && priorDefinite)
            {
                _state[i] = LeakState.Reachable;
                Push(i);
            }
            else if (_state[i] == LeakState.Unreached)
            {
                _state[i] = LeakState.Possible;
                Push(i);
            }
        }

        /// <summary>Every aligned word of [start, end) that can be read is a potential pointer.</summary>
        public void Roots(ulong start, ulong end)
        {
            // Copied through process_vm_readv: a root can be a file mapping whose file shrank (SIGBUS
            // on a direct read), and the copy costs little next to the scan.
            foreach ((ulong s, ulong e) in regions.ScannableParts((start + Word - 1) & ~(Word - 1), end & ~(Word - 1), written))
            {
                for (ulong at = s; at < e;)
                {
                    int length = (int)Math.Min((ulong)RootChunk, e - at);
                    if (!ProcessMemoryReader.Current.TryRead(at, _buffer.AsSpan(0, length))) { at += (ulong)length; continue; }
                    fixed (byte* words = _buffer)
                        for (int k = 0; k + (int)Word <= length; k += (int)Word) FromRoot(*(ulong*)(words + k));
                    at += (ulong)length;
                }
            }
        }

        /// <summary>Every word of block <paramref name="i"/> the program left readable, as a pointer from it.</summary>
        private void ScanBlock(int i, int leader)
        {
            HeapChunk c = chunks[i];
            ulong end = c.User + c.Size;
            if (c.Size < LargeBlock && regions.IsReadable(c.User, c.Size))
            {
                ScanWords(i, c.User, end, leader);
                return;
            }
            foreach ((ulong s, ulong e) in regions.ScannableParts(c.User, end, written)) ScanWords(i, (s + Word - 1) & ~(Word - 1), e, leader);
        }

        // leader < 0: the marking from the roots; else gathering that leader's clique.
        private void ScanWords(int i, ulong from, ulong end, int leader)
        {
            bool definite = _state[i] != LeakState.Possible;
            for (ulong a = from; a + Word <= end; a += Word)
            {
                ulong value = *(ulong*)a;
                if (value - _low >= _high - _low) continue;
                if (leader < 0) Reach(value, definite);
                else Gather(value, leader);
            }
        }

        public void MarkReachable()
        {
            while (_markStack.TryPop(out int i))
            {
                _pending[i] = false;
                ScanBlock(i, leader: -1);
            }
        }

        // Valgrind's clique pass: each unreached block, in address order, gathers the unreached blocks
        // it leads to (start or interior pointers alike); a former leader joining hands over its bytes.
        public void GatherCliques()
        {
            for (int leader = 0; leader < chunks.Length; leader++)
            {
                if (_state[leader] != LeakState.Unreached) continue;
                Push(leader);
                while (_markStack.TryPop(out int i))
                {
                    _pending[i] = false;
                    ScanBlock(i, leader);
                }
            }
        }

        private void Gather(ulong value, int leader)
        {
            int j = BlockAt(value);
            if (j < 0 || j == leader || _state[j] != LeakState.Unreached) return;
            Push(j);
            _indirectBytes[leader] += chunks[j].Size + _indirectBytes[j];
            _indirectBlocks[leader] += 1 + _indirectBlocks[j];
            _state[j] = LeakState.IndirectLeak;
        }

        public LeakScanResult Result()
        {
            var leaks = new List<LeakedBlock>();
            for (int i = 0; i < chunks.Length; i++)
            {
                if (_state[i] == LeakState.Unreached) leaks.Add(new LeakedBlock(chunks[i], Possible: false, _indirectBytes[i], _indirectBlocks[i]));
                else if (_state[i] == LeakState.Possible) leaks.Add(new LeakedBlock(chunks[i], Possible: true, 0, 0));
            }
            return new LeakScanResult(leaks, chunks, _state, _heuristic);
        }
    }
}

/// <summary>A scan's outcome: the leak records' blocks and, for counts, every block's state and heuristic (by address).</summary>
public sealed record LeakScanResult(IReadOnlyList<LeakedBlock> Leaks, IReadOnlyList<HeapChunk> Blocks, IReadOnlyList<LeakState> States, IReadOnlyList<LeakHeuristic> Heuristics)
{
    /// <summary>Blocks and bytes in <paramref name="state"/>.</summary>
    public (int Blocks, ulong Bytes) Count(LeakState state)
    {
        int blocks = 0;
        ulong bytes = 0;
        for (int i = 0; i < Blocks.Count; i++)
            if (States[i] == state) { blocks++; bytes += Blocks[i].Size; }
        return (blocks, bytes);
    }
}
