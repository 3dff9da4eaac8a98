using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// Feeds Iced's decoder straight from guest memory (same address space), never past
/// <see cref="Limit"/>: the end of the executable guest memory the block starts in, so decoding
/// stops (Iced's "no more bytes") where a native fetch would fault, and never faults itself.
/// </summary>
public sealed unsafe class GuestCodeReader(ulong address) : CodeReader
{
    public ulong Address { get; set; } = address;
    public ulong Limit { get; set; } = ulong.MaxValue;

    public override int ReadByte() => Address < Limit ? *(byte*)Address++ : -1;

    public static byte[] Bytes(ulong address, int count) => Span(address, count).ToArray();

    public static ReadOnlySpan<byte> Span(ulong address, int count) => new((void*)address, count);
}
