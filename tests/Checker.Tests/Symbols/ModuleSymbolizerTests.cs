using Checker.Symbols.DebugFiles;
using Checker.Symbols.Elf;
using Checker.Symbols.Symbolization;
using Xunit;
using static Checker.Tests.Symbols.SymbolTools;

namespace Checker.Tests.Symbols;

/// <summary>Symbolization of compiled test programs, checked against markers in their sources and against addr2line.</summary>
public class ModuleSymbolizerTests(SymbolPrograms programs) : IClassFixture<SymbolPrograms>
{
    // Where a PIE might be mapped at run time; any page-aligned value works.
    private const ulong Bias = 0x5555_5555_4000;

    // An empty global debug directory: only what a test puts there (or next to the file) is found.
    private readonly DebugFileLocator _noSystemDebugFiles = new(Scratch().FullName);

    [Fact]
    public void AddressInMain_IsMainAtTheMarkedLine()
    {
        string program = programs.Hello;
        int line = LineOf(SymbolPrograms.HelloSource, "LINE_MAIN_CALL");
        ulong pc = FirstAddressAtLine(program, "main", line);

        using var module = new ModuleSymbolizer(program, Bias);
        SymbolizedFrame frame = Assert.Single(module.Symbolize(Bias + pc));

        Assert.Equal("main", frame.Function);
        Assert.Equal(programs.SourcePath("hello.c"), frame.File);
        Assert.Equal(line, frame.Line);
        Assert.False(frame.Inlined);
        Assert.Equal(Bias + pc, frame.Pc);
        Assert.Equal(pc, frame.ModuleOffset); // a PIE's first PT_LOAD is at 0
        Assert.Equal(program, frame.ModulePath);
        Assert.Equal(pc - Symbol(program, "main").Value, frame.SymbolOffset);
        Assert.Equal($"main [{programs.SourcePath("hello.c")}:{line}] (hello+0x{pc:x})", frame.ToString());
        Assert.Equal(program, module.DebugInfoPath);
        Assert.Null(module.SeparateDebugFile);
    }

    [Fact]
    public void EveryAddressOfHelloAtO0_AgreesWithAddr2line()
    {
        string program = programs.Hello;
        List<ulong> addresses = new[] { "main", "helper" }
            .Select(name => Symbol(program, name))
            .SelectMany(s => Range(s.Value, s.Size))
            .ToList();

        AssertSameAsAddr2line(program, addresses);
        using var module = new ModuleSymbolizer(program, Bias);
        int helperLine = LineOf(SymbolPrograms.HelloSource, "LINE_HELPER");
        Assert.Contains(addresses, a => module.Symbolize(Bias + a)[0] is { Function: "helper", Line: var l } && l == helperLine);
    }

    [Fact]
    public void CxxMethod_IsDemangled()
    {
        string program = programs.Widget;
        int line = LineOf(SymbolPrograms.WidgetSource, "LINE_RESIZE");
        ulong pc = FirstAddressAtLine(program, "_ZN2ns6Widget6resizeEm", line);

        using var module = new ModuleSymbolizer(program, Bias);
        SymbolizedFrame frame = Assert.Single(module.Symbolize(Bias + pc));

        Assert.Equal("ns::Widget::resize(unsigned long)", frame.Function);
        Assert.Equal(programs.SourcePath("widget.cpp"), frame.File);
        Assert.Equal(line, frame.Line);
    }

    [Fact]
    public void InlinedAtO2_GivesTheChainInnermostFirst()
    {
        string program = programs.Inline;
        string source = programs.SourcePath("inline.c");
        ElfSymbol main = Symbol(program, "main");
        // The oracle finds an instruction of the innermost inlined function; the expected lines come from the markers.
        Dictionary<ulong, List<OracleFrame>> oracle = Addr2Line(program, Range(main.Value, main.Size));
        ulong pc = oracle.Where(e => e.Value.Count == 3).Select(e => e.Key).DefaultIfEmpty(ulong.MaxValue).Min();
        Assert.True(pc != ulong.MaxValue, "gcc -O2 inlined nothing two levels deep into main");

        using var module = new ModuleSymbolizer(program, Bias);
        IReadOnlyList<SymbolizedFrame> frames = module.Symbolize(Bias + pc);

        Assert.Collection(frames,
            f => Assert.Equal(("square", source, LineOf(SymbolPrograms.InlineSource, "LINE_SQUARE"), true), (f.Function, f.File, f.Line, f.Inlined)),
            f => Assert.Equal(("sum_squares", source, LineOf(SymbolPrograms.InlineSource, "LINE_CALL_SQUARE"), true), (f.Function, f.File, f.Line, f.Inlined)),
            f => Assert.Equal(("main", source, LineOf(SymbolPrograms.InlineSource, "LINE_CALL_SUM"), false), (f.Function, f.File, f.Line, f.Inlined)));
        Assert.All(frames, f => Assert.Equal(Bias + pc, f.Pc));
        Assert.Null(frames[0].SymbolOffset);
        Assert.Equal(pc - main.Value, frames[2].SymbolOffset);
    }

    [Fact]
    public void StrippedLibrary_FallsBackToDynsymSymbolPlusOffset()
    {
        string directory = programs.NewDirectory("stripped");
        string stripped = Path.Combine(directory, "libshape.so");
        Run(directory, "strip", "-o", stripped, programs.Library);
        ElfSymbol area = Symbol(programs.Library, "shape_area");
        ElfSymbol scale = Symbol(programs.Library, "scale");
        Assert.DoesNotContain(ElfImage.Open(stripped).Sections, s => s.Name.StartsWith(".debug_", StringComparison.Ordinal));

        using var module = new ModuleSymbolizer(stripped, Bias, _noSystemDebugFiles);
        SymbolizedFrame exported = Assert.Single(module.Symbolize(Bias + area.Value + 4));
        SymbolizedFrame local = Assert.Single(module.Symbolize(Bias + scale.Value + 1));

        Assert.Null(module.DebugInfoPath);
        Assert.Equal(("shape_area", (string?)null, (int?)null, (ulong?)4), (exported.Function, exported.File, exported.Line, exported.SymbolOffset));
        Assert.Equal($"shape_area+0x4 (libshape.so+0x{area.Value + 4:x})", exported.ToString());
        // A static function has no .dynsym entry: no name rather than a wrong one.
        Assert.Null(local.Function);
        Assert.Equal($"?? (libshape.so+0x{scale.Value + 1:x})", local.ToString());
    }

    [Fact]
    public void DebugFileFoundByDebuglinkNextToTheFile()
    {
        string directory = programs.NewDirectory("debuglink");
        string debug = Path.Combine(directory, "libshape.so.debug");
        string stripped = Path.Combine(directory, "libshape.so");
        Run(directory, "objcopy", "--only-keep-debug", programs.Library, debug);
        Run(directory, "objcopy", "--strip-all", "--remove-section=.note.gnu.build-id", $"--add-gnu-debuglink={debug}", programs.Library, stripped);
        Assert.Null(ElfImage.Open(stripped).BuildId);

        using var module = new ModuleSymbolizer(stripped, Bias, _noSystemDebugFiles);
        ElfSymbol scale = Symbol(programs.Library, "scale");
        ulong pc = FirstAddressAtLine(programs.Library, "scale", LineOf(SymbolPrograms.LibrarySource, "LINE_SCALE"));
        SymbolizedFrame frame = Assert.Single(module.Symbolize(Bias + pc));

        Assert.Equal(debug, module.SeparateDebugFile);
        Assert.Equal(debug, module.DebugInfoPath);
        Assert.Equal(("scale", programs.SourcePath("shape.c"), LineOf(SymbolPrograms.LibrarySource, "LINE_SCALE")), (frame.Function, frame.File, frame.Line));
        // The debug file's .symtab names the static function too.
        Assert.Equal(pc - scale.Value, frame.SymbolOffset);
    }

    [Fact]
    public void DebuglinkWithTheWrongCrc_IsRejected()
    {
        string directory = programs.NewDirectory("badcrc");
        string debug = Path.Combine(directory, "libshape.so.debug");
        string stripped = Path.Combine(directory, "libshape.so");
        Run(directory, "objcopy", "--only-keep-debug", programs.Library, debug);
        Run(directory, "objcopy", "--strip-all", "--remove-section=.note.gnu.build-id", $"--add-gnu-debuglink={debug}", programs.Library, stripped);
        // Another build's debug file under the linked name.
        Run(directory, "objcopy", "--only-keep-debug", programs.Hello, debug);

        using var module = new ModuleSymbolizer(stripped, Bias, _noSystemDebugFiles);
        SymbolizedFrame frame = Assert.Single(module.Symbolize(Bias + Symbol(programs.Library, "shape_area").Value));

        Assert.Null(module.SeparateDebugFile);
        Assert.Equal(("shape_area", (string?)null), (frame.Function, frame.File));
    }

    [Fact]
    public void DebugFileFoundByBuildId()
    {
        string root = programs.NewDirectory("debugroot");
        var locator = new DebugFileLocator(root);
        ElfImage library = ElfImage.Open(programs.Library);
        string hex = Convert.ToHexStringLower(library.BuildId!);
        string debug = Path.Combine(root, ".build-id", hex[..2], hex[2..] + ".debug");
        Assert.Equal(debug, locator.BuildIdPath(library.BuildId!));
        Directory.CreateDirectory(Path.GetDirectoryName(debug)!);
        Run(root, "objcopy", "--only-keep-debug", programs.Library, debug);
        string stripped = Path.Combine(programs.NewDirectory("buildid"), "libshape.so");
        Run(root, "strip", "-o", stripped, programs.Library);

        using var module = new ModuleSymbolizer(stripped, Bias, locator);
        ulong pc = FirstAddressAtLine(programs.Library, "shape_area", LineOf(SymbolPrograms.LibrarySource, "LINE_AREA"));
        IReadOnlyList<SymbolizedFrame> frames = module.Symbolize(Bias + pc);

        Assert.Equal(debug, module.SeparateDebugFile);
        Assert.Equal(("shape_area", programs.SourcePath("shape.c"), LineOf(SymbolPrograms.LibrarySource, "LINE_AREA")),
            (frames[^1].Function, frames[^1].File, frames[^1].Line));
    }

    [Fact]
    public void DebugFileOfAnotherBuild_IsRejectedByBuildId()
    {
        string root = programs.NewDirectory("wrongroot");
        var locator = new DebugFileLocator(root);
        string debug = locator.BuildIdPath(ElfImage.Open(programs.Library).BuildId!);
        Directory.CreateDirectory(Path.GetDirectoryName(debug)!);
        Run(root, "objcopy", "--only-keep-debug", programs.Hello, debug);
        string stripped = Path.Combine(programs.NewDirectory("wrongid"), "libshape.so");
        Run(root, "strip", "-o", stripped, programs.Library);

        using var module = new ModuleSymbolizer(stripped, Bias, locator);
        Assert.Null(module.SeparateDebugFile);
        Assert.Null(module.DebugInfoPath);
    }

    [Fact]
    public void WithoutDebugAranges_TheUnitIsFoundByItsRanges()
    {
        string directory = programs.NewDirectory("noaranges");
        string program = Path.Combine(directory, "hello");
        Run(directory, "objcopy", "--remove-section=.debug_aranges", programs.Hello, program);
        Assert.Null(ElfImage.Open(program).FindSection(".debug_aranges"));
        int line = LineOf(SymbolPrograms.HelloSource, "LINE_HELPER");
        ulong pc = FirstAddressAtLine(programs.Hello, "helper", line);

        using var module = new ModuleSymbolizer(program, 0);
        SymbolizedFrame frame = Assert.Single(module.Symbolize(pc));

        Assert.Equal(("helper", programs.SourcePath("hello.c"), line), (frame.Function, frame.File, frame.Line));
    }

    [Fact]
    public void CodeWithoutDwarf_IsNamedFromTheSymbolTable()
    {
        // _start comes from crt1.o, which has no DWARF.
        ElfSymbol start = Symbol(programs.Hello, "_start");
        using var module = new ModuleSymbolizer(programs.Hello, Bias);

        SymbolizedFrame frame = Assert.Single(module.Symbolize(Bias + start.Value + 1));

        Assert.Equal(("_start", (string?)null, (ulong?)1), (frame.Function, frame.File, frame.SymbolOffset));
    }

    [Fact]
    public void AddressOutsideTheModule_IsRefusedAndResultsAreCached()
    {
        using var module = new ModuleSymbolizer(programs.Hello, Bias);
        Assert.Throws<ArgumentOutOfRangeException>(() => module.Symbolize(Bias - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => module.Symbolize(module.End));

        ulong main = Bias + Symbol(programs.Hello, "main").Value;
        Assert.Same(module.Symbolize(main), module.Symbolize(main));
        module.Dispose();
        Assert.Throws<ObjectDisposedException>(() => module.Symbolize(main));
    }

    [Fact]
    public void NonPieExecutable_OffsetsCountFromItsFirstSegment()
    {
        string directory = programs.NewDirectory("nopie");
        _ = programs.Hello;   // writes hello.c (lazily: run alone, this test came first and found no source)
        File.Copy(programs.SourcePath("hello.c"), Path.Combine(directory, "hello.c"));
        Run(directory, "gcc", "-g", "-O0", "-no-pie", "hello.c", "-o", "hello");
        string program = Path.Combine(directory, "hello");
        ElfSymbol main = Symbol(program, "main");

        using var module = new ModuleSymbolizer(program);
        SymbolizedFrame frame = Assert.Single(module.Symbolize(main.Value));

        Assert.Equal(0x400000UL, module.Start);
        Assert.Equal(main.Value - 0x400000, frame.ModuleOffset);
        Assert.Equal(("main", Path.Combine(directory, "hello.c")), (frame.Function, frame.File));
    }

    [Fact]
    public void ConcurrentCalls_GiveWhatSequentialCallsGive()
    {
        string program = programs.MixedCpp;
        ulong[] addresses = ElfImage.Open(program).ReadSymbols()
            .Where(s => s.Type == ElfSymbolType.Func && s.IsDefined && s.Size > 0)
            .SelectMany(s => Range(s.Value, s.Size))
            .Where(a => a % 3 == 0)
            .ToArray();
        using var sequential = new ModuleSymbolizer(program, Bias);
        string[] expected = addresses.Select(a => string.Join(" <- ", sequential.Symbolize(Bias + a))).ToArray();

        using var shared = new ModuleSymbolizer(program, Bias);
        var actual = new string[addresses.Length];
        Parallel.For(0, addresses.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => actual[i] = string.Join(" <- ", shared.Symbolize(Bias + addresses[i])));

        Assert.Equal(expected, actual);
    }

    /// <summary>Asserts that every address gives the frames addr2line -f -i -C gives (function, file, line).</summary>
    internal static void AssertSameAsAddr2line(string program, IReadOnlyCollection<ulong> addresses)
    {
        Dictionary<ulong, List<OracleFrame>> oracle = Addr2Line(program, addresses);
        using var module = new ModuleSymbolizer(program, Bias);
        var mismatches = new List<string>();
        foreach (ulong address in addresses)
        {
            List<OracleFrame> expected = oracle[address];
            List<OracleFrame> actual = module.Symbolize(Bias + address).Select(f => new OracleFrame(f.Function ?? "??", f.File, f.Line)).ToList();
            if (!expected.SequenceEqual(actual))
                mismatches.Add($"0x{address:x}: addr2line [{string.Join(" <- ", expected)}]\n    ours [{string.Join(" <- ", actual)}]");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {addresses.Count} addresses differ from addr2line:\n{string.Join('\n', mismatches)}");
    }

    internal static ElfSymbol Symbol(string program, string name) =>
        Assert.Single(ElfImage.Open(program).ReadSymbols(), s => s.Name == name && s.Type == ElfSymbolType.Func);

    internal static IEnumerable<ulong> Range(ulong start, ulong size)
    {
        for (ulong a = start; a < start + size; a++) yield return a;
    }

    /// <summary>The lowest address of function <paramref name="symbol"/> that addr2line puts at <paramref name="line"/> (innermost frame).</summary>
    private static ulong FirstAddressAtLine(string program, string symbol, int line)
    {
        ElfSymbol function = Symbol(program, symbol);
        Dictionary<ulong, List<OracleFrame>> oracle = Addr2Line(program, Range(function.Value, function.Size));
        ulong[] hits = oracle.Where(e => e.Value[0].Line == line).Select(e => e.Key).Order().ToArray();
        Assert.True(hits.Length > 0, $"addr2line puts no address of {symbol} at line {line}");
        return hits[0];
    }

    private static DirectoryInfo Scratch() => new(EndToEnd.Scratch.NewDirectory("emptydebug"));
}
