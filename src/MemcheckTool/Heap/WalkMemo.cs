using System.Runtime.CompilerServices;
using Checker.Symbols.Unwinding;

namespace Checker.MemcheckTool.Heap;

/// <summary>Where a callstack walk starts: everything besides stack memory that its frames depend on.</summary>
internal readonly record struct WalkStart(ulong Pc, ulong Rsp, ulong Rbp, bool Exact, ulong StackTop, int MaxFrames);

/// <summary>A stack word a walk read, and its value then.</summary>
internal readonly record struct StackWord(ulong Address, ulong Value);

/// <summary>
/// The last callstack walked from each start, per thread, with the stack words it depended on. A
/// walk is a function of its start, of the CFI rules of the pcs it met (fixed once the rule cache
/// derived them) and of the stack words it used (return addresses, and saved frame pointers where
/// a later step computes with rbp). When those words still hold the same values, walking again
/// would give the same frames: the memo compares them (independent loads from the stack the program
/// just used) instead of stepping frame by frame, where each step's rule lookup is likely a cache
/// miss and waits on the previous step. Every malloc and free captures a stack, and in real
/// programs most of them repeat a recent one from the same call site at the same depth.
/// </summary>
internal sealed unsafe class WalkMemo
{
    /// <summary>Words a remembered walk may depend on (the default 12 frames use at most 22).</summary>
    public const int MaxWords = 24;

    /// <summary>An entry's size (heap_fastpath.c checks the same).</summary>
    internal const int EntrySize = 48 + MaxWords * 12;

    /// <summary>The size the runtime gave an entry (a test compares it with <see cref="EntrySize"/>).</summary>
    internal static int ActualEntrySize => Unsafe.SizeOf<Entry>();

    // Up to 512 sets of 8 ways (~1.4 MB). With 64 sets of 4 ways sqlite (3.7M captures, ~500
    // distinct walks) missed 26% of its walks (each a ~600 ns walk and intern): a start reached from
    // several callers takes several ways of its set, and a set visited in turn by more walks than it
    // has ways keeps none of them under round-robin replacement; 512 sets of 8 ways leave only its
    // first walks to miss. A thread starts with 4 sets (~11 KB) and grows to 512 once it has
    // remembered more walks than it has entries: a program of many threads that allocate little
    // does not pay 1.4 MB for each, nor 87 KB (32 sets first: bench churn's 2,000 short threads
    // peaked at 196 MB, the pinned memos waiting for a full collection).
    private const int FirstSetBits = 2, MaxSetBits = 9, Ways = 8;

    [ThreadStatic] private static WalkMemo? t_current;

    private int _setBits = FirstSetBits;
    private long _remembered;
    // Pinned: the native heap fast path looks walks up too, through View.
    private Entry[] _entries = GC.AllocateArray<Entry>(Ways << FirstSetBits, pinned: true);
    // Each entry's start hash, a set's ways side by side: a lookup reads one line for the set and
    // only the entry whose tag matches (an entry is several lines, cold in programs with many call sites).
    private ulong[] _tags = GC.AllocateArray<ulong>(Ways << FirstSetBits, pinned: true);
    private byte[] _nextWay = new byte[1 << FirstSetBits];

    /// <summary>How many walks the memo can hold now.</summary>
    internal int Capacity => _entries.Length;

    /// <summary>An empty memo (threads get theirs through <see cref="For"/>).</summary>
    internal WalkMemo(FrameRuleCache? rules)
    {
        Rules = rules;
        View = (MemoView*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(MemoView));
        Publish();
    }

    /// <summary>
    /// The memo as heap_fastpath.c's struct memo_view reads it (the thread's context block points at
    /// it): its arrays and set bits, and whether the memo is gone. Never freed (a few bytes per
    /// memo): a context block may point at it after the memo is collected, and then it says dead.
    /// </summary>
    internal struct MemoView
    {
        public ulong* Tags;
        public void* Entries;
        public long SetBits;
        public long Dead;
    }

    internal MemoView* View { get; }

    private void Publish()
    {
        View->Tags = (ulong*)Unsafe.AsPointer(ref _tags[0]);
        View->Entries = Unsafe.AsPointer(ref _entries[0]);
        View->SetBits = _setBits;
    }

    ~WalkMemo() => View->Dead = 1;

    /// <summary>The rules the remembered walks stepped by: a memo serves one rule cache (one process's modules).</summary>
    private FrameRuleCache? Rules { get; }

    /// <summary>The calling thread's memo for walks that step by <paramref name="rules"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WalkMemo For(FrameRuleCache? rules)
    {
        WalkMemo? memo = t_current;
        if (memo == null || memo.Rules != rules)
        {
            // A context block may still point at the old memo's view: it misses from now on.
            if (memo != null) memo.View->Dead = 1;
            t_current = memo = Reused(rules) ?? new WalkMemo(rules);
        }
        return memo;
    }

    // Memos of ended threads, for the threads that start next (ReleaseCurrent). Slots taken and
    // given with compare-and-swap, no lock: a fork may come at any moment from another thread, and
    // a lock held then would be held for ever in the child.
    private static readonly WalkMemo?[] s_idle = new WalkMemo?[16];

    /// <summary>
    /// The calling thread, whose guest thread has ended, gives its memo to the next thread to start
    /// (emptied; a memo that grew is left to the collector). Thread churn allocated a pinned memo per
    /// thread, ~11 KB that waited for a full collection: bench churn's 2,000 threads left 14 MB on
    /// the pinned heap.
    /// </summary>
    public static void ReleaseCurrent()
    {
        WalkMemo? memo = t_current;
        t_current = null;
        if (memo == null || memo._setBits != FirstSetBits) return;
        memo.Clear();
        for (int i = 0; i < s_idle.Length; i++)
            if (Interlocked.CompareExchange(ref s_idle[i], memo, null) == null) return;
        memo.View->Dead = 1;
    }

    /// <summary>An idle memo for <paramref name="rules"/>, if one waits (see <see cref="ReleaseCurrent"/>).</summary>
    private static WalkMemo? Reused(FrameRuleCache? rules)
    {
        for (int i = 0; i < s_idle.Length; i++)
            if (Volatile.Read(ref s_idle[i]) is { } idle && idle.Rules == rules && Interlocked.CompareExchange(ref s_idle[i], null, idle) == idle)
                return idle;
        return null;
    }

    /// <summary>Forgets every remembered walk.</summary>
    private void Clear()
    {
        Array.Clear(_entries);
        Array.Clear(_tags);
        Array.Clear(_nextWay);
        _remembered = 0;
    }

    /// <summary>The number of the frames of a remembered walk from <paramref name="start"/> whose used words still hold what it read.</summary>
    public bool TryGet(in WalkStart start, out int stack)
    {
        ulong hash = Hash(start);
        int set = SetOf(hash);
        for (int way = 0; way < Ways; way++)
        {
            if (_tags[set + way] != hash) continue;
            ref Entry entry = ref _entries[set + way];
            if (entry.Matches(start))
            {
                stack = entry.Stack - 1;
                return true;
            }
        }
        stack = -1;
        return false;
    }

    /// <summary>Remembers a walk (its stack's number in the <see cref="CallstackTable"/>): the words it used (at most <see cref="MaxWords"/>) and whether it used the entry rbp.</summary>
    public void Remember(in WalkStart start, bool usesRbp, ReadOnlySpan<StackWord> words, int stack)
    {
        // Words are kept by their offset from rsp in 32 bits (the walk reads only [rsp, stackTop)).
        foreach (StackWord word in words)
        {
            if (word.Address - start.Rsp > uint.MaxValue) return;
        }
        if (++_remembered > _entries.Length && _setBits < MaxSetBits) Grow();
        ref Entry entry = ref Place(Hash(start));
        entry.Pc = start.Pc;
        entry.Rsp = start.Rsp;
        entry.Rbp = start.Rbp;
        entry.StackTop = start.StackTop;
        entry.MaxFrames = start.MaxFrames;
        entry.Exact = start.Exact;
        entry.UsesRbp = usesRbp;
        for (int i = 0; i < words.Length; i++) entry.Words[i] = new OffsetWord((uint)(words[i].Address - start.Rsp), words[i].Value);
        entry.WordCount = words.Length;
        entry.Stack = stack + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(in WalkStart start) => (start.Pc ^ start.Rsp) * 0x9E37_79B9_7F4A_7C15;

    private int SetOf(ulong hash) => (int)(hash >> (64 - _setBits)) * Ways;

    /// <summary>The entry a walk with this start hash goes to: the set's ways in turn (the walks from one call site at one depth take every way).</summary>
    private ref Entry Place(ulong hash)
    {
        int set = SetOf(hash);
        ref byte next = ref _nextWay[set / Ways];
        _tags[set + next] = hash;
        ref Entry entry = ref _entries[set + next];
        next = (byte)((next + 1) % Ways);
        return ref entry;
    }

    /// <summary>To the largest size, keeping every remembered walk (placed again by its start hash).</summary>
    private void Grow()
    {
        Entry[] entries = _entries;
        ulong[] tags = _tags;
        _setBits = MaxSetBits;
        _entries = GC.AllocateArray<Entry>(Ways << MaxSetBits, pinned: true);
        _tags = GC.AllocateArray<ulong>(Ways << MaxSetBits, pinned: true);
        _nextWay = new byte[1 << MaxSetBits];
        for (int i = 0; i < entries.Length; i++)
            if (entries[i].Stack != 0) Place(tags[i]) = entries[i];
        Publish();
    }

    // Laid out as heap_fastpath.c's struct memo_entry (336 bytes).
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = EntrySize)]
    private unsafe struct Entry
    {
        [System.Runtime.InteropServices.FieldOffset(0)] public ulong Pc;
        [System.Runtime.InteropServices.FieldOffset(8)] public ulong Rsp;
        [System.Runtime.InteropServices.FieldOffset(16)] public ulong Rbp;
        [System.Runtime.InteropServices.FieldOffset(24)] public ulong StackTop;
        [System.Runtime.InteropServices.FieldOffset(32)] public int MaxFrames;
        [System.Runtime.InteropServices.FieldOffset(36)] public int WordCount;
        [System.Runtime.InteropServices.FieldOffset(40)] public bool Exact;
        [System.Runtime.InteropServices.FieldOffset(41)] public bool UsesRbp;
        [System.Runtime.InteropServices.FieldOffset(44)] public int Stack;   // the stack's number + 1; 0: an empty entry (no reference: no write barrier)
        [System.Runtime.InteropServices.FieldOffset(48)] public Words Words;

        public readonly bool Matches(in WalkStart start)
        {
            if (Stack == 0 || Pc != start.Pc || Rsp != start.Rsp || StackTop != start.StackTop
                || MaxFrames != start.MaxFrames || Exact != start.Exact || (UsesRbp && Rbp != start.Rbp))
                return false;
            for (int i = 0; i < WordCount; i++)
            {
                // In [rsp, stackTop), as when the walk read it from this same rsp.
                if (*(ulong*)(start.Rsp + Words[i].Offset) != Words[i].Value) return false;
            }
            return true;
        }
    }

    /// <summary>A used stack word by its offset from the walk's rsp: 12 bytes, not 16 (the memo is 4096 entries).</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Pack = 4)]
    private readonly struct OffsetWord(uint offset, ulong value)
    {
        public readonly ulong Value = value;
        public readonly uint Offset = offset;
    }

    [InlineArray(MaxWords)]
    private struct Words
    {
        private OffsetWord _word;
    }
}
