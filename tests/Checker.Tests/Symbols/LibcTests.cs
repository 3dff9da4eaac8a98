using Checker.Symbols.DebugFiles;
using Checker.Symbols.Elf;
using Checker.Symbols.Symbolization;
using Xunit;
using static Checker.Tests.Symbols.SymbolTools;

namespace Checker.Tests.Symbols;

/// <summary>A fact that runs only when libc6-dbg's build-id debug file for this machine's libc is installed.</summary>
public sealed class LibcDebugFileFactAttribute : FactAttribute
{
    public LibcDebugFileFactAttribute()
    {
        if (!File.Exists(LibcTests.DebugFile))
            Skip = $"{LibcTests.DebugFile} (the build-id debug file of {LibcTests.Libc}) is not installed: install libc6-dbg (.ci/run does)";
    }
}

/// <summary>The system libc, stripped, symbolized through its separate debug file (libc6-dbg).</summary>
public class LibcTests
{
    public const string Libc = "/lib/x86_64-linux-gnu/libc.so.6";

    // Where glibc might sit in the guest code window.
    private const ulong Bias = 0x1234_5000;

    private static readonly Lazy<string> _debugFile = new(() => new DebugFileLocator().BuildIdPath(ElfImage.Open(Libc).BuildId!));

    public static string DebugFile => _debugFile.Value;

    [LibcDebugFileFact]
    public void Malloc_IsSymbolizedThroughTheBuildIdDebugFile()
    {
        ElfImage libc = ElfImage.Open(Libc);
        Assert.DoesNotContain(libc.Sections, s => s.Name == ".debug_info");
        ElfSymbol malloc = Assert.Single(libc.ReadSymbols(), s => s.Name == "malloc" && s.IsDefined);
        ulong pc = malloc.Value + 0x10;

        using var module = new ModuleSymbolizer(Libc, Bias);
        IReadOnlyList<SymbolizedFrame> frames = module.Symbolize(Bias + pc);

        Assert.Equal(DebugFile, module.SeparateDebugFile);
        SymbolizedFrame outer = frames[^1];
        Assert.False(outer.Inlined);
        // DWARF names it after its definition, glibc's __libc_malloc (malloc is an alias).
        Assert.Equal("__libc_malloc", outer.Function);
        Assert.Equal("malloc.c", Path.GetFileName(outer.File));
        Assert.Equal((ulong?)0x10, outer.SymbolOffset);
        Assert.Equal(pc, outer.ModuleOffset);
        Assert.Matches(@"^__libc_malloc \[.*malloc\.c:\d+\] \(libc\.so\.6\+0x[0-9a-f]+\)$", outer.ToString());

        // addr2line (which also finds the debug file by build-id) agrees on every frame's line;
        // its names are the linkage names (__GI___libc_malloc), ours DW_AT_name.
        List<OracleFrame> expected = Addr2Line(Libc, [pc])[pc];
        Assert.Equal(expected.Count, frames.Count);
        for (int i = 0; i < frames.Count; i++)
        {
            Assert.EndsWith(frames[i].Function!, expected[i].Function);
            Assert.Equal(Path.GetFileName(expected[i].File), Path.GetFileName(frames[i].File));
            Assert.Equal(expected[i].Line, frames[i].Line);
        }
    }

    [LibcDebugFileFact]
    public void LocalFunctionsOfStrippedLibc_AreNamedFromTheDebugFilesSymtab()
    {
        // _int_malloc is static: not in libc.so.6's .dynsym, only in the debug file's .symtab.
        ElfImage debug = ElfImage.OpenDebugFile(DebugFile);
        ElfSymbol intMalloc = Assert.Single(debug.ReadSymbols(), s => s.Name == "_int_malloc" && s.Type == ElfSymbolType.Func);
        Assert.DoesNotContain(ElfImage.Open(Libc).ReadSymbols(), s => s.Name == "_int_malloc");

        using var module = new ModuleSymbolizer(Libc, Bias);
        SymbolizedFrame outer = module.Symbolize(Bias + intMalloc.Value + 3)[^1];

        Assert.Equal("_int_malloc", outer.Function);
        Assert.Equal((ulong?)3, outer.SymbolOffset);
        Assert.NotNull(outer.Line);
    }

    [LibcDebugFileFact]
    public void BySymbols_NamesThePhysicalFunctionFromTheDebugFilesSymtab_WithoutReadingDwarf()
    {
        // A pc inside pthread_create where allocate_stack was inlined (the DTV's calloc path): the
        // full symbolization shows allocate_stack there; the symbol tables name pthread_create only.
        ElfImage debug = ElfImage.OpenDebugFile(DebugFile);
        ElfSymbol create = debug.ReadSymbols().First(s => s.Name.StartsWith("pthread_create@@", StringComparison.Ordinal) && s.Type == ElfSymbolType.Func);
        ElfSymbol intMalloc = Assert.Single(debug.ReadSymbols(), s => s.Name == "_int_malloc" && s.Type == ElfSymbolType.Func);

        using var module = new ModuleSymbolizer(Libc, Bias);
        SymbolizedFrame physical = module.SymbolizeBySymbols(Bias + create.Value + 0x20);
        SymbolizedFrame local = module.SymbolizeBySymbols(Bias + intMalloc.Value + 3);

        Assert.False(module.DebugInfoOpened);
        Assert.Equal("pthread_create", physical.Function);
        Assert.Equal(create.Name, physical.MangledFunction);
        Assert.Equal((ulong?)0x20, physical.SymbolOffset);
        Assert.False(physical.Inlined);
        Assert.Null(physical.File);
        // Static: only the debug file's .symtab names it.
        Assert.Equal("_int_malloc", local.Function);
        Assert.Equal((ulong?)3, local.SymbolOffset);

        // The full symbolization afterwards reads DWARF and still names the same physical function.
        Assert.Equal((ulong?)3, module.Symbolize(Bias + intMalloc.Value + 3)[^1].SymbolOffset);
        Assert.True(module.DebugInfoOpened);
    }
}
