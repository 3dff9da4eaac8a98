using Checker.Symbols.Elf;
using Checker.Symbols.Symbolization;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Symbols;

/// <summary>
/// The name each frame carries for suppressions (<see cref="SymbolizedFrame.MangledFunction"/>):
/// the symbol table's name as Valgrind picks it among aliases, mangled for C++, next to the
/// demangled or DWARF name the report shows.
/// </summary>
public class ValgrindNameTests
{
    [LibcDebugFileFact]
    public void OfLibcsAliasesTheShortestNameAsValgrindPicksIt()
    {
        ElfImage libc = ElfImage.Open(LibcTests.Libc);
        using var module = new ModuleSymbolizer(LibcTests.Libc, 0x1234_5000);
        foreach ((string symbol, string shown) in new[] { ("write", "__libc_write"), ("malloc", "__libc_malloc") })
        {
            ElfSymbol function = Assert.Single(libc.ReadSymbols(), s => s.Name == symbol && s.IsDefined);
            SymbolizedFrame outer = module.Symbolize(0x1234_5000 + function.Value + 4)[^1];
            // The report shows DWARF's name of the definition; Valgrind (and its suppressions) the shortest alias.
            Assert.Equal((shown, symbol), (outer.Function, outer.MangledFunction));
        }
    }

    [Fact]
    public void CxxFramesKeepTheirMangledName()
    {
        string program = CaseBinaries.Get("suppressions_cxx");
        ElfImage image = ElfImage.Open(program);
        ElfSymbol resize = Assert.Single(image.ReadSymbols(), s => s.Name == "_ZN6shapes6Widget6resizeEm" && s.IsDefined);
        using var module = new ModuleSymbolizer(program);
        SymbolizedFrame frame = Assert.Single(module.Symbolize(resize.Value + 8));
        Assert.Equal(("shapes::Widget::resize(unsigned long)", "_ZN6shapes6Widget6resizeEm"), (frame.Function, frame.MangledFunction));
    }
}
