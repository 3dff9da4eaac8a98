using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>Feeds Iced's decoder straight from guest memory (same address space).</summary>
internal sealed unsafe class GuestCodeReader(ulong address) : CodeReader
{
    public ulong Address { get; private set; } = address;

    public override int ReadByte() => *(byte*)Address++;

    public static byte[] Bytes(ulong address, int count) => new ReadOnlySpan<byte>((void*)address, count).ToArray();
}
