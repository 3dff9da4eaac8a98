using Checker.Symbols.DebugFiles;
using Checker.Symbols.Dwarf;
using Checker.Symbols.Elf;
using Xunit;
using static Checker.Tests.Symbols.SymbolTools;

namespace Checker.Tests.Symbols;

/// <summary>
/// Compressed DWARF is opened through a decompressed copy kept by build-id: the copy is made once,
/// reused after, symbolizes exactly as the original, and anything wrong with it falls back to the original.
/// </summary>
public class DecompressedDebugFilesTests(SymbolPrograms programs) : IClassFixture<SymbolPrograms>
{
    [Fact]
    public void CompressedDwarf_IsOpenedThroughADecompressedCopy_ThatSymbolizesTheSame()
    {
        string program = programs.CompressedHello;
        ElfImage image = ElfImage.Open(program);
        Assert.True(DecompressedDebugFiles.HasCompressedDwarf(image));
        string cache = EndToEnd.Scratch.NewDirectory("decompressed");

        string copy = DecompressedDebugFiles.PathFor(image, cache);

        Assert.Equal(Path.Combine(cache, Convert.ToHexStringLower(image.BuildId!) + ".debug"), copy);
        ElfImage decompressed = ElfImage.Open(copy);
        Assert.False(DecompressedDebugFiles.HasCompressedDwarf(decompressed));
        Assert.Equal(image.BuildId, decompressed.BuildId);
        ElfSymbol helper = ModuleSymbolizerTests.Symbol(program, "helper");
        using (DwarfFile original = DwarfFile.Open(program)!)
        using (DwarfFile fromCopy = DwarfFile.Open(copy)!)
        {
            for (ulong pc = helper.Value; pc < helper.Value + helper.Size; pc++)
                Assert.Equal(original.Frames(pc), fromCopy.Frames(pc));
            DwarfFrame frame = Assert.Single(fromCopy.Frames(helper.Value + helper.Size / 2));
            Assert.Equal("helper", frame.Function);
            Assert.Equal(LineOf(SymbolPrograms.HelloSource, "LINE_HELPER"), frame.Line);
        }

        // Made once: the next open takes the same file as it is.
        DateTime written = File.GetLastWriteTimeUtc(copy);
        Assert.Equal(copy, DecompressedDebugFiles.PathFor(image, cache));
        Assert.Equal(written, File.GetLastWriteTimeUtc(copy));
        Assert.Empty(Directory.GetFiles(cache, "*.tmp"));
    }

    [Fact]
    public void DamagedCopy_IsReplaced_AndNoCacheDirectoryMeansTheOriginal()
    {
        string program = programs.CompressedHello;
        ElfImage image = ElfImage.Open(program);
        string cache = EndToEnd.Scratch.NewDirectory("decompressed");
        string copy = Path.Combine(cache, Convert.ToHexStringLower(image.BuildId!) + ".debug");
        File.WriteAllText(copy, "not an ELF file");

        Assert.Equal(copy, DecompressedDebugFiles.PathFor(image, cache));
        Assert.False(DecompressedDebugFiles.HasCompressedDwarf(ElfImage.Open(copy)));

        Assert.Equal(program, DecompressedDebugFiles.PathFor(image, directory: null));
        string unwritable = Path.Combine(cache, "file-not-directory");
        File.WriteAllText(unwritable, "");
        Assert.Equal(program, DecompressedDebugFiles.PathFor(image, Path.Combine(unwritable, "sub")));
        // Uncompressed DWARF is opened where it is.
        Assert.Equal(programs.Hello, DecompressedDebugFiles.PathFor(ElfImage.Open(programs.Hello), cache));
    }
}
