using System.Buffers.Binary;
using Checker.Engine.Loading;
using Checker.Symbols.Elf;
using Checker.Tests.Elf;
using Xunit;

namespace Checker.Tests.Loading;

/// <summary>The values binfmt_elf derives from program headers, on patched copies of a real static program.</summary>
public class BinfmtRulesTests(CompiledBinaries binaries) : IClassFixture<CompiledBinaries>
{
    private (byte[] Bytes, List<PatchedSegment> Segments) Static()
    {
        byte[] bytes = File.ReadAllBytes(binaries.Static);
        return (bytes, ElfPatcher.Segments(bytes));
    }

    [Fact]
    public void ProgramHeaderAddress_IsInTheLoadSegmentHoldingEPhoff()
    {
        var (bytes, _) = Static();
        Assert.Equal(0x400040UL, BinfmtRules.ProgramHeaderVirtualAddress(ElfImage.Parse("static", bytes)));

        ElfPatcher.AddMisleadingPhdrSegment(bytes, 56);
        Assert.Equal(0x400040UL, BinfmtRules.ProgramHeaderVirtualAddress(ElfImage.Parse("pt-phdr", bytes)));
    }

    [Fact]
    public void ProgramHeaderAddress_IsZeroWhenNoLoadSegmentHoldsThem()
    {
        var (bytes, segments) = Static();
        // The first PT_LOAD (file offset 0) holds them; start its file image past e_phoff.
        PatchedSegment first = segments.First(s => s.Type == ElfPatcher.PT_LOAD);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(first.EntryOffset + 8), 0x1000);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(first.EntryOffset + 16), first.VirtualAddress + 0x1000);
        Assert.Equal(0UL, BinfmtRules.ProgramHeaderVirtualAddress(ElfImage.Parse("no-holder", bytes)));
    }

    [Fact]
    public void MaximumAlignment_TakesPowersOfTwoOnly()
    {
        var (bytes, segments) = Static();
        PatchedSegment[] loads = segments.Where(s => s.Type == ElfPatcher.PT_LOAD).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(loads[0].EntryOffset + 48), 0x20_0000);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(loads[1].EntryOffset + 48), 0x30_0000);
        Assert.Equal(0x20_0000UL, BinfmtRules.MaximumAlignment(ElfImage.Parse("aligned", bytes)));
    }

    [Fact]
    public void CodeExtent_EndsWithTheLastExecutableSegment()
    {
        var (bytes, segments) = Static();
        PatchedSegment text = segments.Single(s => s.Type == ElfPatcher.PT_LOAD && (s.Flags & ElfPatcher.PF_X) != 0);
        ElfImage image = ElfImage.Parse("static", bytes);
        Assert.Equal(text.VirtualAddress + text.MemorySize - image.LowestLoadAddress, BinfmtRules.CodeExtent(image));
    }

    [Fact]
    public void TooManyProgramHeaders_AreRefusedAsByTheKernel()
    {
        // load_elf_phdrs reads at most 64 KiB: 1170 entries of 56 bytes.
        var (bytes, _) = Static();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(56), 1171);
        Assert.Contains("too many program headers", Assert.Throws<ElfFormatException>(() => ElfImage.Parse("many", bytes)).Message);
    }
}
