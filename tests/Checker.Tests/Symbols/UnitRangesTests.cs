using System.Buffers.Binary;
using Checker.Symbols.Dwarf;
using Checker.Symbols.Elf;
using Xunit;

namespace Checker.Tests.Symbols;

/// <summary>Checker's own .debug_aranges reader: the units it finds, and the same frames as through libdw's lookup.</summary>
public class UnitRangesTests
{
    // One set: unit_length, version 2, unit offset, address size 8, no segments, padding to 16, tuples, terminator.
    private static byte[] Set(ulong unit, bool dwarf64, params (ulong Start, ulong Length)[] ranges)
    {
        var body = new List<byte>();
        void U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); body.AddRange(b); }
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); body.AddRange(b); }
        void U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); body.AddRange(b); }
        int lengthSize = dwarf64 ? 12 : 4;
        U16(2);
        if (dwarf64) U64(unit); else U32((uint)unit);
        body.Add(8);
        body.Add(0);
        while ((lengthSize + body.Count) % 16 != 0) body.Add(0);
        foreach ((ulong start, ulong length) in ranges) { U64(start); U64(length); }
        U64(0);
        U64(0);
        var set = new List<byte>();
        if (dwarf64)
        {
            set.AddRange(BitConverter.GetBytes(0xffff_ffffu));
            set.AddRange(BitConverter.GetBytes((ulong)body.Count));
        }
        else set.AddRange(BitConverter.GetBytes((uint)body.Count));
        set.AddRange(body);
        return [.. set];
    }

    [Fact]
    public void FindsTheUnitOfEachRange_AndNothingBetweenThem()
    {
        byte[] section = [.. Set(0x4b1, false, (0x2000, 0x100), (0x1000, 0x10)), .. Set(0x2843, true, (0x3000, 0x80)), .. Set(0x9000, false)];
        UnitRanges ranges = Assert.IsType<UnitRanges>(UnitRanges.Parse(section));
        Assert.Equal(3, ranges.Count);
        Assert.True(ranges.TryFind(0x1000, out ulong unit));
        Assert.Equal(0x4b1UL, unit);
        Assert.True(ranges.TryFind(0x20ff, out unit));
        Assert.Equal(0x4b1UL, unit);
        Assert.True(ranges.TryFind(0x307f, out unit));
        Assert.Equal(0x2843UL, unit);
        Assert.False(ranges.TryFind(0x1010, out _));
        Assert.False(ranges.TryFind(0x2100, out _));
        Assert.False(ranges.TryFind(0xfff, out _));
        Assert.False(ranges.TryFind(0x3080, out _));
    }

    [Fact]
    public void AMalformedSection_IsNotRead()
    {
        byte[] good = Set(0x10, false, (0x1000, 0x10));
        Assert.Null(UnitRanges.Parse(good.AsSpan(0, good.Length - 9)));   // a set longer than the section
        byte[] version3 = (byte[])good.Clone();
        version3[4] = 3;
        Assert.Null(UnitRanges.Parse(version3));
        Assert.NotNull(UnitRanges.Parse([]));
    }

    [LibcDebugFileFact]
    public void LibcFrames_AreTheSameAsThroughLibdwsLookup()
    {
        // Every 40th function of libc's debug file (static ones too): the frames (function, file,
        // line, inlined chain) through Checker's reading of .debug_aranges and through dwarf_addrdie
        // are the same.
        ElfImage debug = ElfImage.Open(LibcTests.DebugFile);
        ulong[] pcs = debug.ReadSymbols().Where(s => s.IsDefined && s.Type == ElfSymbolType.Func && s.Size > 4).Select(s => s.Value + 2)
            .Distinct().Order().Where((_, i) => i % 40 == 0).ToArray();
        Assert.True(pcs.Length > 20, $"{pcs.Length} functions sampled");
        using DwarfFile ours = DwarfFile.Open(LibcTests.DebugFile)!;
        using DwarfFile libdw = DwarfFile.Open(LibcTests.DebugFile, libdwRanges: true)!;
        int named = 0;
        foreach (ulong pc in pcs)
        {
            IReadOnlyList<DwarfFrame> expected = libdw.Frames(pc), actual = ours.Frames(pc);
            Assert.Equal(expected, actual);
            if (actual.Count > 0 && actual[^1].Function != null) named++;
        }
        Assert.True(named > pcs.Length / 2, $"{named} of {pcs.Length} named");
    }
}
