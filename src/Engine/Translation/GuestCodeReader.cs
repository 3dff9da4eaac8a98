using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>Feeds Iced's decoder straight from guest memory (same address space).</summary>
internal sealed unsafe class GuestCodeReader(ulong address) : CodeReader
{
    public ulong Address { get; set; } = address;

    public override int ReadByte() => *(byte*)Address++;

    public static byte[] Bytes(ulong address, int count) => Span(address, count).ToArray();

    public static ReadOnlySpan<byte> Span(ulong address, int count) => new((void*)address, count);
}
