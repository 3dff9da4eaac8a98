using Checker.Symbols.Elf;
using Xunit;

namespace Checker.Tests.Symbols;

/// <summary>50 random code addresses of -O2 programs symbolize as binutils' addr2line -f -i -C does.</summary>
public class Addr2lineComparisonTests(SymbolPrograms programs) : IClassFixture<SymbolPrograms>
{
    // Functions that come from crt files without DWARF (addr2line says "??" there; we give the symbol).
    private static readonly HashSet<string> StartupFunctions =
    [
        "_start", "_dl_relocate_static_pie", "deregister_tm_clones", "register_tm_clones",
        "__do_global_dtors_aux", "frame_dummy", "_init", "_fini",
    ];

    [Fact]
    public void MixedC_O2() => Compare(programs.MixedC, seed: 1);

    [Fact]
    public void MixedCxx_O2() => Compare(programs.MixedCpp, seed: 2);

    private static void Compare(string program, int seed)
    {
        ulong[] code = ElfImage.Open(program).ReadSymbols()
            .Where(s => s.Type == ElfSymbolType.Func && s.IsDefined && s.Size > 0 && !StartupFunctions.Contains(s.Name))
            .SelectMany(s => ModuleSymbolizerTests.Range(s.Value, s.Size))
            .Distinct()
            .ToArray();
        Assert.True(code.Length > 200, $"only {code.Length} code bytes in {program}");

        var random = new Random(seed);
        random.Shuffle(code);
        ulong[] sample = code[..50];
        ModuleSymbolizerTests.AssertSameAsAddr2line(program, sample);
    }
}
