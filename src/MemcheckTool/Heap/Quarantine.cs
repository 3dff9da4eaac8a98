using System.Runtime.CompilerServices;
namespace Checker.MemcheckTool.Heap;

/// <summary>A freed block waiting in quarantine, with what recycling it needs (its slot is long out of the caches by then).</summary>
/// <remarks>Laid out as heap_fastpath.c's struct quarantined (int, then two 8-aligned ulongs: 24 bytes).</remarks>
public record struct QuarantinedBlock(int Slot, ulong BlockStart, ulong BlockSize);

/// <summary>
/// The heap's freed blocks, oldest first (delayed frees): a ring read in place. Every free adds
/// one and, once the quarantine is full, recycles the oldest; <see cref="Queue{T}"/> returned each
/// by value through memory, which stalled every free on store forwarding. The ring is pinned and
/// its head and count live in the heap's <see cref="HeapFastPath.State"/>, which the native fast
/// path updates too.
/// </summary>
internal sealed unsafe class Quarantine
{
    private QuarantinedBlock[] _ring = null!;
    private readonly HeapFastPath.State* _state;

    public Quarantine(HeapFastPath.State* state)
    {
        _state = state;
        Publish(GC.AllocateArray<QuarantinedBlock>(1024, pinned: true));
    }

    private void Publish(QuarantinedBlock[] ring)
    {
        _ring = ring;
        _state->Ring = (QuarantinedBlock*)Unsafe.AsPointer(ref ring[0]);
        _state->RingLength = ring.Length;
    }

    private int Head
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (int)_state->RingHead;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] set => _state->RingHead = value;
    }

    public int Count
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (int)_state->RingCount;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] private set => _state->RingCount = value;
    }

    // Fields, not a struct: one built on the stack and copied in was read back across its stores.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int slot, ulong blockStart, ulong blockSize)
    {
        if (Count == _ring.Length) Grow();
        ref QuarantinedBlock entry = ref _ring[(Head + Count) & (_ring.Length - 1)];
        entry.Slot = slot;
        entry.BlockStart = blockStart;
        entry.BlockSize = blockSize;
        Count++;
    }

    /// <summary>The oldest block (the quarantine is not empty).</summary>
    public ref readonly QuarantinedBlock Oldest => ref _ring[Head];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RemoveOldest()
    {
        Head = (Head + 1) & (_ring.Length - 1);
        Count--;
    }

    private void Grow()
    {
        var grown = GC.AllocateArray<QuarantinedBlock>(_ring.Length * 2, pinned: true);
        for (int i = 0; i < Count; i++) grown[i] = _ring[(Head + i) & (_ring.Length - 1)];
        Publish(grown);
        Head = 0;
    }
}
