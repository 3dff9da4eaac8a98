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
    public void MakingACopy_EvictsTheLeastRecentlyUsedOnesBeyondTheLimit()
    {
        string program = programs.CompressedHello;
        ElfImage image = ElfImage.Open(program);
        string cache = EndToEnd.Scratch.NewDirectory("decompressed");
        // Three stale copies of 4 KiB, used 30, 20 and 10 days ago, and a file that is no copy.
        string[] stale = ["aa", "bb", "cc"];
        for (int i = 0; i < stale.Length; i++)
        {
            string path = Path.Combine(cache, stale[i] + ".debug");
            File.WriteAllBytes(path, new byte[4096]);
            File.SetLastAccessTimeUtc(path, DateTime.UtcNow - TimeSpan.FromDays(30 - 10 * i));
        }
        File.WriteAllBytes(Path.Combine(cache, "notes.txt"), new byte[100_000]);

        long size = new FileInfo(DecompressedDebugFiles.PathFor(image, EndToEnd.Scratch.NewDirectory("decompressed"))).Length;

        // Room for the new copy and two of the old ones.
        string copy = DecompressedDebugFiles.PathFor(image, cache, limit: size + 2 * 4096);

        Assert.True(File.Exists(copy));
        Assert.False(File.Exists(Path.Combine(cache, "aa.debug")), "the least recently used copy stayed");
        Assert.True(File.Exists(Path.Combine(cache, "cc.debug")), "the most recently used old copy went");
        Assert.True(File.Exists(Path.Combine(cache, "notes.txt")), "a file that is no copy went");

        // A limit below the new copy alone keeps it and evicts every other.
        File.Delete(copy);
        copy = DecompressedDebugFiles.PathFor(image, cache, limit: 1);
        Assert.True(File.Exists(copy));
        Assert.Equal([copy], Directory.GetFiles(cache, "*.debug"));
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
