using System.Runtime.CompilerServices;
namespace Checker.MemcheckTool.Heap;

/// <summary>A freed block waiting in quarantine, with what recycling it needs (its slot is long out of the caches by then).</summary>
internal record struct QuarantinedBlock(int Slot, ulong BlockStart, ulong BlockSize);

/// <summary>
/// The heap's freed blocks, oldest first (delayed frees): a ring read in place. Every free adds
/// one and, once the quarantine is full, recycles the oldest; <see cref="Queue{T}"/> returned each
/// by value through memory, which stalled every free on store forwarding.
/// </summary>
internal sealed class Quarantine
{
    private QuarantinedBlock[] _ring = new QuarantinedBlock[1024];
    private int _head;

    public int Count { get; private set; }

    // Fields, not a struct: one built on the stack and copied in was read back across its stores.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int slot, ulong blockStart, ulong blockSize)
    {
        if (Count == _ring.Length) Grow();
        ref QuarantinedBlock entry = ref _ring[(_head + Count) & (_ring.Length - 1)];
        entry.Slot = slot;
        entry.BlockStart = blockStart;
        entry.BlockSize = blockSize;
        Count++;
    }

    /// <summary>The oldest block (the quarantine is not empty).</summary>
    public ref readonly QuarantinedBlock Oldest => ref _ring[_head];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RemoveOldest()
    {
        _head = (_head + 1) & (_ring.Length - 1);
        Count--;
    }

    private void Grow()
    {
        var grown = new QuarantinedBlock[_ring.Length * 2];
        for (int i = 0; i < Count; i++) grown[i] = _ring[(_head + i) & (_ring.Length - 1)];
        _ring = grown;
        _head = 0;
    }
}
