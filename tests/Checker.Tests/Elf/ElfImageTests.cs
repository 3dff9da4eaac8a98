using Checker.Symbols.Elf;
using Xunit;

namespace Checker.Tests.Elf;

/// <summary>Parses real binaries of this machine and compiled test programs.</summary>
public class ElfImageTests(CompiledBinaries binaries) : IClassFixture<CompiledBinaries>
{
    private const string LdSo = "/lib64/ld-linux-x86-64.so.2";

    [Fact]
    public void Ls_IsPieWithInterpreterAndBuildId()
    {
        ElfImage ls = ElfImage.Open("/bin/ls");

        Assert.Equal("/bin/ls", ls.Path);
        Assert.Equal(ElfType.Shared, ls.Type);
        Assert.True(ls.IsPositionIndependent);
        Assert.Equal(LdSo, ls.Interpreter);
        Assert.NotNull(ls.BuildId);
        Assert.Equal(20, ls.BuildId!.Length);
        Assert.Equal(ls.BuildId, BuildIdFromSection(ls));
        Assert.Equal((ulong)new FileInfo("/bin/ls").Length, ls.FileSize);
    }

    [Fact]
    public void SectionsBeyondTheFirstPagesReadAsTheFileHasThem()
    {
        const string libc = "/lib/x86_64-linux-gnu/libc.so.6";
        ElfImage image = ElfImage.Open(libc);
        byte[] file = File.ReadAllBytes(libc);
        Assert.Contains(image.Sections, s => s.Offset > 1 << 20 && !s.HasNoFileData && s.Size > 0);
        foreach (ElfSection section in image.Sections.Where(s => !s.HasNoFileData))
            Assert.True(file.AsSpan((int)section.Offset, (int)section.Size).SequenceEqual(image.GetSectionData(section)), section.Name);
        Assert.Contains(image.ReadSymbols(), s => s.Name == "malloc");
    }

    [Fact]
    public void AFileReplacedAfterItWasOpenedIsNotReadAsTheOldOne()
    {
        string dir = Directory.CreateTempSubdirectory("elf-replaced").FullName;
        try
        {
            string path = Path.Combine(dir, "lib.so");
            File.Copy("/lib/x86_64-linux-gnu/libc.so.6", path);
            ElfImage image = ElfImage.Open(path);
            // Another version of the file under the same name: its ranges are absent, never mixed in.
            File.Delete(path);
            File.Copy("/lib/x86_64-linux-gnu/libm.so.6", path);
            Assert.Empty(image.ReadSymbols());
            Assert.Equal(Path.GetFileName(path), Path.GetFileName(image.Path));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Ls_ProgramHeadersMatchTheHeader()
    {
        ElfImage ls = ElfImage.Open("/bin/ls");

        Assert.Equal(64UL, ls.ProgramHeaderOffset);
        Assert.Equal(56, ls.ProgramHeaderEntrySize);
        Assert.Equal(ls.ProgramHeaderCount, ls.ProgramHeaders.Count);
        Assert.Equal(ElfSegmentType.Phdr, ls.ProgramHeaders[0].Type);
        Assert.Equal(ls.ProgramHeaderOffset, ls.ProgramHeaders[0].Offset);
        Assert.Contains(ls.ProgramHeaders, p => p.Type == ElfSegmentType.GnuStack && p.Flags == (ElfSegmentFlags.Read | ElfSegmentFlags.Write));
        Assert.Contains(ls.ProgramHeaders, p => p.Type == ElfSegmentType.Dynamic);
        Assert.Contains(ls.ProgramHeaders, p => p.Type == ElfSegmentType.Load && p.Flags.HasFlag(ElfSegmentFlags.Execute));

        var loads = ls.ProgramHeaders.Where(p => p.Type == ElfSegmentType.Load).ToList();
        Assert.Equal(0UL, ls.LowestLoadAddress);
        Assert.Equal(0UL, ls.HighestLoadAddress % 4096);
        Assert.True(ls.HighestLoadAddress >= loads.Max(p => p.VirtualAddress + p.MemorySize));
        Assert.True(ls.HighestLoadAddress - loads.Max(p => p.VirtualAddress + p.MemorySize) < 4096);
        Assert.Contains(loads, p => p.VirtualAddress <= ls.Entry && ls.Entry < p.VirtualAddress + p.MemorySize && p.Flags.HasFlag(ElfSegmentFlags.Execute));
    }

    [Fact]
    public void Ls_SectionsAreNamedAndStrippedSymbolsComeFromDynsym()
    {
        ElfImage ls = ElfImage.Open("/bin/ls");

        ElfSection text = Assert.Single(ls.Sections, s => s.Name == ".text");
        Assert.Equal(ElfConstants.SHT_PROGBITS, text.Type);
        Assert.Equal(ElfConstants.SHF_ALLOC | ElfConstants.SHF_EXECINSTR, text.Flags & (ElfConstants.SHF_ALLOC | ElfConstants.SHF_EXECINSTR));
        Assert.Equal(ElfConstants.SHT_NULL, ls.Sections[0].Type);
        Assert.Equal(".interp", ls.Sections[1].Name);
        Assert.Equal(ElfConstants.SHT_NOBITS, ls.FindSection(".bss")!.Type);
        Assert.Equal(LdSo + "\0", System.Text.Encoding.ASCII.GetString(ls.GetSectionData(ls.FindSection(".interp")!)));

        Assert.DoesNotContain(ls.Sections, s => s.Type == ElfConstants.SHT_SYMTAB);
        IReadOnlyList<ElfSymbol> symbols = ls.ReadSymbols();
        Assert.NotEmpty(symbols);
        Assert.Contains(symbols, s => s.Name == "malloc" && s.Type == ElfSymbolType.Func && !s.IsDefined);
    }

    [Fact]
    public void SymbolTable_ReadInPlace_AgreesWithReadSymbolsAndLooksUpNamesWithoutStrings()
    {
        ElfImage ls = ElfImage.Open("/bin/ls");
        IReadOnlyList<ElfSymbol> symbols = ls.ReadSymbols();
        ElfSymbolTable table = ls.ReadSymbolTable();
        Assert.Equal(symbols.Count + 1, table.Count);
        var names = new Dictionary<string, int> { ["malloc"] = 1, ["free"] = 2, ["no_such_function"] = 3 }.GetAlternateLookup<ReadOnlySpan<char>>();
        var found = new List<string>();
        for (int i = 1; i < table.Count; i++)
        {
            Assert.Equal(symbols[i - 1], table.ToSymbol(table[i]));
            if (names.TryGetValue(table.NameOf(table[i]), out string key, out _)) found.Add(key);
        }
        Assert.Equal(["free", "malloc"], found.Order());
        // Names longer than the stack buffer are looked up too.
        string longName = new('x', 300);
        var withLong = new Dictionary<string, int> { [longName] = 7 }.GetAlternateLookup<ReadOnlySpan<char>>();
        Assert.True(withLong.TryGetValue(System.Text.Encoding.UTF8.GetBytes(longName), out string longKey, out int value));
        Assert.Equal((longName, 7), (longKey, value));
    }

    [Fact]
    public void Ls_DebugLinkNamesTheDebugFile()
    {
        ElfImage ls = ElfImage.Open("/bin/ls");
        if (ls.FindSection(".gnu_debuglink") == null) return; // Not every distribution ships one.

        Assert.NotNull(ls.DebugLink);
        Assert.EndsWith(".debug", ls.DebugLink);
        Assert.NotNull(ls.DebugLinkCrc);
    }

    [Fact]
    public void LdSo_IsSharedWithoutInterpreter()
    {
        ElfImage ld = ElfImage.Open(LdSo);

        Assert.Equal(ElfType.Shared, ld.Type);
        Assert.True(ld.IsPositionIndependent);
        Assert.Null(ld.Interpreter);
        Assert.Equal(20, ld.BuildId?.Length);
        Assert.Equal(0UL, ld.LowestLoadAddress);
        Assert.True(ld.Entry > 0 && ld.Entry < ld.HighestLoadAddress);
    }

    [Fact]
    public void StaticExecutable_IsFixedAddressWithMainSymbol()
    {
        ElfImage exe = ElfImage.Open(binaries.Static);

        Assert.Equal(ElfType.Executable, exe.Type);
        Assert.False(exe.IsPositionIndependent);
        Assert.Null(exe.Interpreter);
        Assert.DoesNotContain(exe.ProgramHeaders, p => p.Type == ElfSegmentType.Interp);
        Assert.Equal(0x400000UL, exe.LowestLoadAddress);
        Assert.True(exe.Entry >= exe.LowestLoadAddress && exe.Entry < exe.HighestLoadAddress);
        Assert.Equal(20, exe.BuildId?.Length);

        IReadOnlyList<ElfSymbol> symbols = exe.ReadSymbols();
        ElfSymbol main = Assert.Single(symbols, s => s.Name == "main");
        Assert.Equal(ElfSymbolType.Func, main.Type);
        Assert.Equal(ElfSymbolBinding.Global, main.Binding);
        Assert.True(main.IsDefined);
        Assert.True(main.Size > 0);
        Assert.Equal(".text", exe.Sections[main.SectionIndex].Name);
        Assert.InRange(main.Value, exe.LowestLoadAddress, exe.HighestLoadAddress);

        ElfSymbol counter = Assert.Single(symbols, s => s.Name == "counter");
        Assert.Equal(ElfSymbolType.Object, counter.Type);
        Assert.Equal(4UL, counter.Size);
        ElfSection symtab = Assert.Single(exe.Sections, s => s.Type == ElfConstants.SHT_SYMTAB);
        Assert.Equal(symtab.Size / 24 - 1, (ulong)symbols.Count); // All but the null symbol.
    }

    [Fact]
    public void StaticPie_IsPositionIndependentWithoutInterpreter()
    {
        ElfImage exe = ElfImage.Open(binaries.StaticPie);

        Assert.Equal(ElfType.Shared, exe.Type);
        Assert.True(exe.IsPositionIndependent);
        Assert.Null(exe.Interpreter);
        Assert.Contains(exe.ProgramHeaders, p => p.Type == ElfSegmentType.Dynamic);
        Assert.Equal(0UL, exe.LowestLoadAddress);
        Assert.Contains(exe.ReadSymbols(), s => s.Name == "main" && s.Type == ElfSymbolType.Func);
    }

    [Fact]
    public void WithoutSectionTable_ParsesWithNoSectionsOrSymbols()
    {
        byte[] bytes = File.ReadAllBytes(binaries.Static);
        bytes.AsSpan(40, 8).Clear(); // e_shoff
        bytes.AsSpan(60, 4).Clear(); // e_shnum, e_shstrndx

        ElfImage exe = ElfImage.Parse("sstripped", bytes);

        Assert.Empty(exe.Sections);
        Assert.Empty(exe.ReadSymbols());
        Assert.Null(exe.DebugLink);
        Assert.Equal(20, exe.BuildId?.Length); // Still found through PT_NOTE.
        Assert.Equal(ElfType.Executable, exe.Type);
    }

    [Fact]
    public void UnknownSegmentType_IsPreserved()
    {
        byte[] bytes = File.ReadAllBytes("/bin/ls");
        ElfImage original = ElfImage.Parse("/bin/ls", bytes);
        int index = original.ProgramHeaders.ToList().FindIndex(p => p.Type == ElfSegmentType.GnuStack);
        int at = (int)original.ProgramHeaderOffset + index * ElfConstants.PhdrSize;
        BitConverter.TryWriteBytes(bytes.AsSpan(at), 0x6fff1234u);

        ElfImage patched = ElfImage.Parse("/bin/ls", bytes);

        Assert.Equal((ElfSegmentType)0x6fff1234u, patched.ProgramHeaders[index].Type);
    }

    /// <summary>The descriptor of .note.gnu.build-id read independently: the last 20 bytes of the section.</summary>
    private static byte[] BuildIdFromSection(ElfImage image)
    {
        ElfSection note = image.FindSection(".note.gnu.build-id")!;
        return image.GetSectionData(note)[^20..].ToArray();
    }
}
