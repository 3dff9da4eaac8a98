using Checker.Symbols.DebugFiles;
using Checker.Symbols.Elf;
using Xunit;
using static Checker.Tests.Symbols.SymbolTools;

namespace Checker.Tests.Symbols;

public class DebugFileLocatorTests(SymbolPrograms programs) : IClassFixture<SymbolPrograms>
{
    [Fact]
    public void BuildIdPath_IsFirstByteThenTheRestInHex()
    {
        var locator = new DebugFileLocator();
        Assert.Equal("/usr/lib/debug", locator.Root);
        Assert.Equal("/usr/lib/debug/.build-id/93/ac61ec.debug", locator.BuildIdPath([0x93, 0xac, 0x61, 0xec]));
        Assert.Throws<ArgumentException>(() => locator.BuildIdPath([0x93]));
    }

    [Fact]
    public void Candidates_BuildIdFirstThenDebuglinkBesideTheFileThenUnderTheRoot()
    {
        // lib/ is a symbolic link to real/: the link's target directory is searched too.
        string top = programs.NewDirectory("candidates");
        string real = Directory.CreateDirectory(Path.Combine(top, "real")).FullName;
        string linked = Path.Combine(top, "lib");
        Directory.CreateSymbolicLink(linked, real);
        Run(top, "objcopy", "--only-keep-debug", programs.Library, Path.Combine(real, "libshape.debug"));
        Run(top, "objcopy", "--strip-debug", "--add-gnu-debuglink=" + Path.Combine(real, "libshape.debug"), programs.Library, Path.Combine(real, "libshape.so"));
        ElfImage image = ElfImage.Open(Path.Combine(linked, "libshape.so"));
        string root = Path.Combine(top, "root");
        var locator = new DebugFileLocator(root);

        Assert.Equal(
        [
            locator.BuildIdPath(image.BuildId!),
            Path.Combine(linked, "libshape.debug"),
            Path.Combine(linked, ".debug", "libshape.debug"),
            root + linked + "/libshape.debug",
            Path.Combine(real, "libshape.debug"),
            Path.Combine(real, ".debug", "libshape.debug"),
            root + real + "/libshape.debug",
        ], locator.Candidates(image));
        Assert.Equal(Path.Combine(linked, "libshape.debug"), locator.Find(image));
    }

    [Fact]
    public void FileWithNeitherBuildIdNorDebuglink_HasNoCandidates()
    {
        string directory = programs.NewDirectory("bare");
        string bare = Path.Combine(directory, "libshape.so");
        Run(directory, "objcopy", "--strip-all", "--remove-section=.note.gnu.build-id", programs.Library, bare);
        ElfImage image = ElfImage.Open(bare);

        Assert.Empty(new DebugFileLocator().Candidates(image));
        Assert.Null(new DebugFileLocator().Find(image));
    }

    [Theory]
    [InlineData("fifo", true)]
    [InlineData("fifo", false)]
    [InlineData("/dev/zero", true)]
    [InlineData("/dev/zero", false)]
    public void DebuglinkToAFifoOrDevice_IsSkippedWithoutReading(string target, bool withBuildId)
    {
        // A FIFO would block an open for reading and /dev/zero never ends: neither is read at all.
        string directory = programs.NewDirectory("odd-debuglink");
        string debug = Path.Combine(directory, "libshape.debug");
        string library = Path.Combine(directory, "libshape.so");
        Run(directory, "objcopy", "--only-keep-debug", programs.Library, debug);
        var strip = new List<string> { "--strip-debug", "--add-gnu-debuglink=" + debug };
        if (!withBuildId) strip.Add("--remove-section=.note.gnu.build-id");
        Run(directory, "objcopy", [.. strip, programs.Library, library]);
        File.Delete(debug);
        if (target == "fifo") Run(directory, "mkfifo", debug);
        else File.CreateSymbolicLink(debug, target);

        ElfImage image = ElfImage.Open(library);
        Assert.Equal(withBuildId, image.BuildId != null);
        Assert.Contains(debug, new DebugFileLocator(Path.Combine(directory, "root")).Candidates(image));
        Assert.Null(new DebugFileLocator(Path.Combine(directory, "root")).FindImage(image));
    }
}
