using System.Buffers.Binary;
using System.Text;
using Checker.Engine.Syscalls.Parameters;

namespace Checker.Tests.Engine;

/// <summary>
/// Guest memory for syscall-parameter tests: one readable window of bytes at <see cref="Base"/>;
/// everything else (NULL included) cannot be read, as process_vm_readv would say.
/// </summary>
internal sealed class FakeGuestMemory : IGuestMemoryReader
{
    public const ulong Base = 0x7000_0000;
    private readonly byte[] _bytes = new byte[64 * 1024];
    private ulong _next = Base;

    public ulong End => Base + (ulong)_bytes.Length;

    public bool TryRead(ulong address, Span<byte> into)
    {
        if (address < Base || address + (ulong)into.Length > End) return false;
        _bytes.AsSpan((int)(address - Base), into.Length).CopyTo(into);
        return true;
    }

    /// <summary>Reserves <paramref name="length"/> bytes (16-aligned) and returns their address.</summary>
    public ulong Allocate(ulong length)
    {
        ulong address = _next;
        _next += (length + 15) & ~15UL;
        return address;
    }

    public ulong String(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text + "\0");
        ulong address = Allocate((ulong)bytes.Length);
        bytes.CopyTo(_bytes, (int)(address - Base));
        return address;
    }

    /// <summary>An array of 8-byte words (pointers, lengths).</summary>
    public ulong Words(params ulong[] words)
    {
        ulong address = Allocate((ulong)words.Length * 8);
        for (int i = 0; i < words.Length; i++) WriteUInt64(address + (ulong)i * 8, words[i]);
        return address;
    }

    public void Write(ulong address, ReadOnlySpan<byte> bytes) => bytes.CopyTo(_bytes.AsSpan((int)(address - Base)));

    public void WriteUInt64(ulong address, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(_bytes.AsSpan((int)(address - Base)), value);

    public void WriteUInt32(ulong address, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_bytes.AsSpan((int)(address - Base)), value);

    public void WriteUInt16(ulong address, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan((int)(address - Base)), value);
}
