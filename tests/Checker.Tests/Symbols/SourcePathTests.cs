using Checker.Symbols.Symbolization;
using Xunit;

namespace Checker.Tests.Symbols;

/// <summary>Source paths in reports are normalised lexically, never through the file system.</summary>
public class SourcePathTests
{
    [Theory]
    [InlineData("/src/dir/../x.c", "/src/x.c")]
    [InlineData("/src/./a//b/./c.c", "/src/a/b/c.c")]
    [InlineData("/src/a/b/../../c.c", "/src/c.c")]
    [InlineData("/../x.c", "/x.c")]
    [InlineData("./malloc/malloc.c", "malloc/malloc.c")]
    [InlineData("../sysdeps/nptl/libc_start_call_main.h", "../sysdeps/nptl/libc_start_call_main.h")]
    [InlineData("a/../../b.c", "../b.c")]
    [InlineData("x.c", "x.c")]
    [InlineData("a/..", ".")]
    public void NormalizesLexically(string path, string expected) => Assert.Equal(expected, SourcePath.Normalize(path));

    [Fact]
    public void SymlinksAreNotResolved()
    {
        string directory = Directory.CreateTempSubdirectory("checker-srcpath-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(directory, "real", "sub"));
            string link = Path.Combine(directory, "link");
            File.CreateSymbolicLink(link, Path.Combine(directory, "real", "sub"));
            // Through the file system, link/.. is real/; lexically it is the directory itself.
            Assert.Equal(Path.Combine(directory, "x.c"), SourcePath.Normalize(Path.Combine(link, "..", "x.c")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
