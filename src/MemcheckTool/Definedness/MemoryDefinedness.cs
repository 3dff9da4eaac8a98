using System.Collections.Concurrent;
using Checker.Shadow;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// Definedness of guest memory at bit level: the 2-bit shadow says defined (00), undefined (01) or
/// partly defined (10, the undefined bits of the byte in a side table, as Valgrind's secondary V
/// bits), and unaddressable (11) bytes are left to the access checks (read as defined, never
/// written). Used by the propagating mode and the system-call checks; the inline checks only see
/// the 2-bit states.
/// <para>
/// Undefined bytes are stored where <paramref name="keepsUndefined"/> says (memcheck: everywhere):
/// where mode-0 code checks every store, or is made to once an undefined byte is there
/// (<see cref="GlobalTaint"/>: the globals' pages and the static TLS, written RIP- and fs-relative), so
/// that no undefined byte outlives a store that overwrote it unchecked. <see cref="KeptOutsideHeap"/>
/// tells GlobalTaint where they went.
/// </para>
/// <para>
/// A partly defined heap byte's bits are in <paramref name="heapBits"/>, where the shadow move
/// routine reads and writes them too; the others' (the stack's, a client request's) in a dictionary.
/// </para>
/// </summary>
internal sealed class MemoryDefinedness(ShadowMemory shadow, Func<ulong, bool> keepsUndefined, HeapVBits? heapBits = null)
{
    private readonly ConcurrentDictionary<ulong, byte> _partial = new();

    private byte PartialBits(ulong address) =>
        heapBits is { } heap && heap.Covers(address) ? heap[address]
        : _partial.TryGetValue(address, out byte bits) ? bits : (byte)0xff;

    private void SetPartialBits(ulong address, byte bits)
    {
        if (heapBits is { } heap && heap.Covers(address)) heap[address] = bits;
        else _partial[address] = bits;
    }
    private static readonly bool Trace = Environment.GetEnvironmentVariable("MEMCHECK_TRACE_DEFINEDNESS") == "1";

    /// <summary>The undefined bits of each byte of [address, address + vbits.Length).</summary>
    public void Read(ulong address, Span<byte> vbits)
    {
        int n = (int)Math.Min((ulong)vbits.Length, address >= ShadowMemory.AddressLimit ? 0 : ShadowMemory.AddressLimit - address);
        vbits[n..].Clear();
        Span<ShadowState> states = stackalloc ShadowState[Math.Min(n, 256)];
        for (int done = 0; done < n; done += states.Length)
        {
            int count = Math.Min(states.Length, n - done);
            shadow.GetStates(address + (ulong)done, states[..count]);
            for (int i = 0; i < count; i++)
            {
                vbits[done + i] = states[i] switch
                {
                    ShadowState.Undefined => 0xff,
                    ShadowState.BitLevel => PartialBits(address + (ulong)(done + i)),
                    _ => 0,
                };
            }
        }
    }

    /// <summary>
    /// Stores undefined bits for [address, ...); unaddressable bytes stay unaddressable.
    /// <paramref name="anywhere"/>: also where stores go unchecked (VALGRIND_SET_VBITS: the program says so).
    /// </summary>
    public void Write(ulong address, ReadOnlySpan<byte> vbits, bool anywhere = false)
    {
        ulong keptLow = ulong.MaxValue, keptHigh = 0;
        int n = (int)Math.Min((ulong)vbits.Length, address >= ShadowMemory.AddressLimit ? 0 : ShadowMemory.AddressLimit - address);
        Span<ShadowState> states = stackalloc ShadowState[Math.Min(n, 256)];
        for (int done = 0; done < n; done += states.Length)
        {
            int count = Math.Min(states.Length, n - done);
            for (int i = 0; i < count; i++)
            {
                ulong a = address + (ulong)(done + i);
                byte bits = anywhere || keepsUndefined(a) ? vbits[done + i] : (byte)0;
                states[i] = bits switch { 0 => ShadowState.Defined, 0xff => ShadowState.Undefined, _ => ShadowState.BitLevel };
                if (states[i] == ShadowState.BitLevel) SetPartialBits(a, bits);
                if (bits != 0 && !(heapBits?.Covers(a) ?? false)) (keptLow, keptHigh) = (Math.Min(keptLow, a), Math.Max(keptHigh, a));
                if (Trace && states[i] != ShadowState.Defined && a >= 0x3fff_0000_0000 && a < 0x4000_0000_0000) Console.Error.WriteLine($"memcheck-definedness: stack byte 0x{a:x} made {states[i]}");
            }
            shadow.SetStatesKeepingUnaddressable(address + (ulong)done, states[..count]);
        }
        if (keptHigh != 0) KeptOutsideHeap?.Invoke(keptLow, keptHigh - keptLow + 1);
    }

    /// <summary>Undefined bytes were kept outside the heap, in [address, address + length) (<see cref="GlobalTaint"/>).</summary>
    public Action<ulong, ulong>? KeptOutsideHeap { get; set; }

    /// <summary>The first and last undefined byte of [address, address + length) and how many there are, or null when all are defined (or unaddressable).</summary>
    public (ulong First, ulong Last, ulong Count)? UndefinedSpan(ulong address, ulong length)
    {
        ulong end = Math.Min(address + length, ShadowMemory.AddressLimit);
        if (address >= end) return null;
        ulong? first = null, last = null;
        ulong count = 0;
        ulong a = address;
        while (a < end)
        {
            // Whole defined stretches go by fast.
            if (shadow.FirstNot(a, end - a, ShadowState.Defined) is not { } found) break;
            a = found.Address;
            if (found.State != ShadowState.Unaddressable)
            {
                first ??= a;
                last = a;
                count++;
            }
            a++;
        }
        return first is ulong f ? (f, last!.Value, count) : null;
    }

    public void Define(ulong address, ulong length)
    {
        ulong end = Math.Min(address + length, ShadowMemory.AddressLimit);
        if (address >= end) return;
        // Only what is not already defined (or unaddressable) changes.
        ulong a = address;
        while (a < end && shadow.FirstNot(a, end - a, ShadowState.Defined) is { } found)
        {
            a = found.Address;
            // A run of one state at once (a read() into a fresh buffer is one run); an unaddressable
            // one is stepped over whole: byte by byte, glibc's madvise(MADV_DONTNEED) of an ended
            // thread's 8 MB stack, unaddressable below its last rsp, took 25 ms a thread.
            ulong runEnd = shadow.FirstNot(a, end - a, found.State) is { } other ? other.Address : end;
            if (found.State != ShadowState.Unaddressable) shadow.Set(a, runEnd - a, ShadowState.Defined);
            a = runEnd;
        }
    }

    /// <summary>realloc: the kept bytes' definedness, partial bytes included.</summary>
    public void Copy(ulong from, ulong to, ulong length)
    {
        // Only the partly defined bytes of the source carry side-table bits: found by runs of one
        // state, not by a walk of the whole side table (cc1plus reallocs ~150,000 times). The bits
        // go before the lanes, as every writer of a partly defined byte does (the blocks never overlap).
        ulong end = Math.Min(from + length, ShadowMemory.AddressLimit);
        ulong a = from;
        while (a < end && shadow.FirstNot(a, end - a, ShadowState.Defined) is { } found)
        {
            a = found.Address;
            if (found.State == ShadowState.BitLevel)
            {
                SetPartialBits(to + (a - from), PartialBits(a));
                a++;
                continue;
            }
            a = shadow.FirstNot(a, end - a, found.State) is { } other ? other.Address : end;
        }
        shadow.Copy(from, to, length);
    }
}
