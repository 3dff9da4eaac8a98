using System.Runtime.InteropServices;
using Checker.Engine.State;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The malloc family's common paths in native code (heap_fastpath.c, built into <see cref="FileName"/>
/// next to the binary): malloc, calloc (a small product) and operator new of a small size whose free list has a block (or, the
/// list empty and no free range fitting, carved from the arena's unused end where it is open), free
/// and delete of a live block of the right family, realloc between small blocks whose kept bytes
/// are plainly defined or undefined, malloc_usable_size, all with a walk-memo hit for the
/// callstack. The engine's <c>InterceptCall</c> routine calls it before it switches to C# (the two
/// wrfsbase of the fs swap, the MXCSR read, the reverse P/Invoke: most of a replaced call's cost), on
/// the host stack with the cache's fs base in force; whatever it does not finish it leaves untouched
/// for the C# handler. It reads and writes the heap's tables through <see cref="State"/>: the C#
/// side keeps them in pinned arrays and native memory and republishes them when they grow.
/// Single-threaded programs only: the tool clears <see cref="State.Enabled"/> before a second
/// thread runs (the C# side's lock is not taken there), and a vfork child's journal turns it off.
/// </summary>
public static unsafe class HeapFastPath
{
    /// <summary>The shared object's file name.</summary>
    public const string FileName = "libchecker-heap.so";

    /// <summary>Fast tags (the <see cref="Engine.Interception.InterceptedFunction.FastTag"/> of a row) available.</summary>
    public const int MaxTags = 64;

    /// <summary>What a fast tag does.</summary>
    public enum Op : byte { None = 0, Allocate = 1, Free = 2, UsableSize = 3, Reallocate = 4, AllocateCleared = 5 }

    /// <summary>One fast tag's row: struct fast_function.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Function
    {
        public ulong ArgumentBits;
        public Op Operation;
        public AllocationKind Kind;
        public byte Routine;
    }

    /// <summary>struct heap_state, field for field (all 8 bytes wide, then the functions).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct State
    {
        public ulong Enabled;
        public ulong ArenaStart;
        public ulong Next;
        public byte* ShadowBase;
        public ulong FreshPattern;
        public ulong FixedRedzone;
        public ulong DelayFreesBytes, DelayFrees;
        public ulong LiveBytes, LiveBlocks, QuarantinedBytes, HoardedBytes;
        public ChunkTable.Entry* Slots;
        public long SlotsLength, Used;
        public int* FreeSlots;
        public long FreeSlotsLength, FreeCount, ChunkCount;
        public QuarantinedBlock* Ring;
        public long RingLength, RingHead, RingCount;
        public ulong** Lists;
        public long* ListCapacity;
        public long ReusableCount;
        public long OffDirty, OffRaxShadow, OffMemo;
        public ulong RaxDirtyBit;
        public long Definedness;
        public long MaxFrames;
        public ulong Calls;
        public long OffRsp, OffRbp, OffRdi, OffRax, OffUnwindTop, OffStopSignal;
        /// <summary>Where the arena is open up to (GuestHeap.Commit), and the longest free range (FreeRanges; 0: none).</summary>
        public ulong Committed, MaxRange;
        public long OffRsi;
        /// <summary>A bit per size class whose free list holds blocks (<see cref="ReusableBlocks.HeldAbove"/>).</summary>
        public ulong* Held;
        public FunctionRows Functions;
    }

    [System.Runtime.CompilerServices.InlineArray(MaxTags)]
    public struct FunctionRows
    {
        private Function _row;
    }

    /// <summary>A new state, zeroed, with the engine's context-block offsets filled in.</summary>
    public static State* NewState()
    {
        var s = (State*)NativeMemory.AllocZeroed((nuint)sizeof(State));
        s->OffRsp = ContextOffsets.OfGpr(4);
        s->OffRbp = ContextOffsets.OfGpr(5);
        s->OffRdi = ContextOffsets.OfGpr(7);
        s->OffRsi = ContextOffsets.OfGpr(6);
        s->OffRax = ContextOffsets.OfGpr(0);
        s->OffUnwindTop = ContextOffsets.UnwindTop;
        s->OffStopSignal = ContextOffsets.StopSignal;
        return s;
    }

    private static nint s_entry = -1;

    /// <summary>
    /// Whether the C side was compiled with this side's layouts (heap_fastpath.c's
    /// checker_heap_layout): the state, a chunk-table slot, a quarantined block, a walk-memo entry
    /// and view, a function row (false without the shared object).
    /// </summary>
    public static bool LayoutsAgree() => NativeLibrary.TryLoad(LibraryPath, out nint library) && LayoutsAgree(library);

    private static string LibraryPath => Path.Combine(AppContext.BaseDirectory, FileName);

    private static bool LayoutsAgree(nint library)
    {
        if (!NativeLibrary.TryGetExport(library, "checker_heap_layout", out nint export)) return false;
        var layout = (delegate* unmanaged<int, ulong>)export;
        return layout(0) == (ulong)sizeof(State) && layout(1) == (ulong)sizeof(ChunkTable.Entry)
            && layout(2) == (ulong)sizeof(QuarantinedBlock) && layout(3) == (ulong)WalkMemo.ActualEntrySize
            && layout(4) == (ulong)sizeof(WalkMemo.MemoView) && layout(5) == (ulong)sizeof(Function);
    }

    /// <summary>checker_heap_fast's address, or 0 when the shared object cannot be loaded (the C# handlers do everything).</summary>
    public static nint EntryPoint
    {
        get
        {
            if (s_entry != -1) return s_entry;
            nint entry = 0;
            if (Environment.GetEnvironmentVariable("MEMCHECK_NO_HEAP_FAST_PATH") == null
                && NativeLibrary.TryLoad(LibraryPath, out nint library)
                && NativeLibrary.TryGetExport(library, "checker_heap_fast", out nint export))
            {
                // A stale build of the other side would corrupt the heap: none rather than that.
                entry = LayoutsAgree(library) ? export : 0;
            }
            return s_entry = entry;
        }
    }
}
