using System.Buffers.Binary;
using Checker.Symbols.Unwinding;

namespace Checker.Tests.Unwinding;

/// <summary>An <see cref="IMemoryReader"/> over byte regions placed at addresses; everything else is unreadable.</summary>
public sealed class FakeMemory : IMemoryReader
{
    private readonly List<(ulong Start, byte[] Bytes)> _regions = [];

    /// <summary>Places <paramref name="bytes"/> at <paramref name="start"/> (regions must not overlap).</summary>
    public FakeMemory Add(ulong start, byte[] bytes)
    {
        _regions.Add((start, bytes));
        return this;
    }

    /// <summary>A zeroed region of <paramref name="size"/> bytes at <paramref name="start"/>, returned for filling in.</summary>
    public byte[] AddZeroed(ulong start, int size)
    {
        var bytes = new byte[size];
        Add(start, bytes);
        return bytes;
    }

    /// <summary>Writes an 8-byte word into the region holding <paramref name="address"/>.</summary>
    public void Write(ulong address, ulong value)
    {
        (ulong start, byte[] bytes) = _regions.Single(r => address >= r.Start && address + 8 <= r.Start + (ulong)r.Bytes.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan((int)(address - start)), value);
    }

    public bool TryReadUInt64(ulong address, out ulong value)
    {
        foreach ((ulong start, byte[] bytes) in _regions)
        {
            if (address >= start && address + 8 <= start + (ulong)bytes.Length && address + 8 > address)
            {
                value = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan((int)(address - start)));
                return true;
            }
        }
        value = 0;
        return false;
    }
}
