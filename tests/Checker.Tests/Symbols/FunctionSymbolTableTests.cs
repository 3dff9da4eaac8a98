using Checker.Symbols.Elf;
using Checker.Symbols.Symbolization;
using Xunit;

namespace Checker.Tests.Symbols;

/// <summary>
/// Which of several function symbols at one address a frame is named by (the one a person knows)
/// and which Valgrind's suppressions match: the table sorts once by a precomputed key, and must
/// choose as the chain of stable LINQ orderings it replaced (kept here as the reference).
/// </summary>
public class FunctionSymbolTableTests
{
    private static ElfSymbol Function(string name, ulong value, ElfSymbolBinding binding = ElfSymbolBinding.Global, ulong size = 16) =>
        new(name, value, size, ElfSymbolType.Func, binding, 1);

    [Fact]
    public void AliasesAndDuplicatesChooseAsTheStableOrderingDid()
    {
        ElfSymbol[] symbols =
        [
            Function("__libc_malloc", 0x1000), Function("malloc", 0x1000, ElfSymbolBinding.Weak), Function("__malloc", 0x1000),
            Function("write", 0x2000, ElfSymbolBinding.Weak), Function("__write", 0x2000), Function("__libc_write", 0x2000, ElfSymbolBinding.Local),
            // The same name twice at one address, sizes differing: the file's first is kept.
            Function("twice", 0x3000, size: 8), Function("twice", 0x3000, size: 32),
            Function("memcpy@GLIBC_2.2.5", 0x4000), Function("memcpy@@GLIBC_2.14", 0x4000), Function("memcpy", 0x4000, ElfSymbolBinding.Weak),
            Function("b", 0x5000), Function("a", 0x5000),
            new("data", 0x6000, 8, ElfSymbolType.Object, ElfSymbolBinding.Global, 1),
            new("undefined", 0x7000, 8, ElfSymbolType.Func, ElfSymbolBinding.Global, 0),
        ];
        AssertChoosesAsReference(symbols);
        AssertChoosesAsReference(symbols.Reverse().ToArray());
    }

    [Fact]
    public void LibcsSymbolsChooseAsTheStableOrderingDid()
    {
        AssertChoosesAsReference(ElfImage.Open(LibcTests.Libc).ReadSymbols().ToArray());
    }

    [Fact]
    public void ScanFindsWhatTheTableFinds()
    {
        ElfSymbol[] symbols =
        [
            Function("__libc_malloc", 0x1000), Function("malloc", 0x1000, ElfSymbolBinding.Weak), Function("__malloc", 0x1000),
            Function("write", 0x2000, ElfSymbolBinding.Weak), Function("__write", 0x2000), Function("__libc_write", 0x2000, ElfSymbolBinding.Local),
            Function("twice", 0x3000, size: 8), Function("twice", 0x3000, size: 32),
            Function("memcpy@GLIBC_2.2.5", 0x4000), Function("memcpy@@GLIBC_2.14", 0x4000), Function("memcpy", 0x4000, ElfSymbolBinding.Weak),
            Function("b", 0x5000), Function("a", 0x5000), Function("unsized", 0x5800, size: 0),
            new("data", 0x6000, 8, ElfSymbolType.Object, ElfSymbolBinding.Global, 1),
            new("undefined", 0x7000, 8, ElfSymbolType.Func, ElfSymbolBinding.Global, 0),
        ];
        ulong[] addresses = [0x10, 0x1000, 0x1004, 0x1010, 0x2008, 0x3004, 0x3010, 0x3040, 0x4000, 0x5000, 0x500f, 0x5010, 0x5800, 0x5fff, 0x6004, 0x7004];
        // One table, and split in two as a stripped module's debug file and .dynsym are (the debug file's first).
        AssertScanAsTable(symbols, [], addresses);
        AssertScanAsTable(symbols[..5], symbols[5..], addresses);
        AssertScanAsTable(symbols[9..], symbols[..9], addresses);
    }

    [Fact]
    public void ScanFindsWhatTheTableFindsInLibc()
    {
        ElfSymbol[] symbols = ElfImage.Open(LibcTests.Libc).ReadSymbols().ToArray();
        var addresses = new List<ulong>();
        foreach (ElfSymbol s in symbols.Where(s => s.Type == ElfSymbolType.Func).Take(400))
            addresses.AddRange([s.Value, s.Value + 1, s.Value + s.Size, s.Value - 1]);
        AssertScanAsTable(symbols, [], addresses);
    }

    [Fact]
    public void ScanFromTheFilesFindsWhatTheTableFindsWithLibcsDebugFile()
    {
        // libc6-dbg's .symtab first, then libc's .dynsym, as a stripped module's symbolizer scans them,
        // read from the files a window at a time (ElfSymbolStream), against the table of both.
        ElfImage libc = ElfImage.Open(LibcTests.Libc);
        ElfImage? debug = new Checker.Symbols.DebugFiles.DebugFileLocator().FindImage(libc);
        Assert.NotNull(debug);
        ElfSymbol[] first = debug!.ReadSymbols().ToArray(), second = libc.ReadSymbols().ToArray();
        var table = new FunctionSymbolTable(first.Concat(second));
        var addresses = new List<ulong>();
        foreach (ElfSymbol s in first.Where(s => s.Type == ElfSymbolType.Func).Take(150).Concat(second.Where(s => s.Type == ElfSymbolType.Func).Take(150)))
            addresses.AddRange([s.Value, s.Value + 1, s.Value + s.Size, s.Value - 1]);
        using ElfSymbolStream? debugStream = ElfImage.Open(debug.Path).OpenSymbolStream();
        using ElfSymbolStream? libcStream = ElfImage.Open(LibcTests.Libc).OpenSymbolStream();
        Assert.NotNull(debugStream);
        Assert.NotNull(libcStream);
        Assert.Equal(debug.ReadSymbolTable().Count, debugStream!.Count);
        foreach (ulong address in addresses)
        {
            var scanned = FunctionSymbolTable.Scan(debugStream, libcStream!, address);
            (ElfSymbol Symbol, ulong Offset)? found = table.Find(address);
            Assert.Equal(found is null, scanned is null);
            if (found is not { } f) continue;
            Assert.Equal(f.Symbol, scanned!.Value.Symbol);
            Assert.Equal(f.Offset, scanned.Value.Offset);
            Assert.Equal(table.ValgrindName(f.Symbol), scanned.Value.ValgrindName);
        }
    }

    [Fact]
    public void AnImageGivenAsBytesHasNoStream() =>
        Assert.Null(ElfImage.Parse(LibcTests.Libc, File.ReadAllBytes(LibcTests.Libc)).OpenSymbolStream());

    private static void AssertScanAsTable(ElfSymbol[] first, ElfSymbol[] second, IEnumerable<ulong> addresses)
    {
        var table = new FunctionSymbolTable(first.Concat(second));
        (byte[] firstEntries, byte[] firstStrings) = RawTable(first);
        (byte[] secondEntries, byte[] secondStrings) = RawTable(second);
        foreach (ulong address in addresses)
        {
            var scanned = FunctionSymbolTable.Scan(new ElfSymbolTable(firstEntries, firstStrings), new ElfSymbolTable(secondEntries, secondStrings), address);
            (ElfSymbol Symbol, ulong Offset)? found = table.Find(address);
            Assert.Equal(found is null, scanned is null);
            if (found is not { } f) continue;
            Assert.Equal(f.Symbol, scanned!.Value.Symbol);
            Assert.Equal(f.Offset, scanned.Value.Offset);
            Assert.Equal(table.ValgrindName(f.Symbol), scanned.Value.ValgrindName);
        }
    }

    // The symbols as an ELF64 .symtab (a null entry first) and its string table.
    private static (byte[] Entries, byte[] Strings) RawTable(ElfSymbol[] symbols)
    {
        var strings = new List<byte> { 0 };
        var entries = new byte[24 * (symbols.Length + 1)];
        for (int i = 0; i < symbols.Length; i++)
        {
            ElfSymbol s = symbols[i];
            Span<byte> e = entries.AsSpan(24 * (i + 1), 24);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(e, (uint)strings.Count);
            strings.AddRange(System.Text.Encoding.UTF8.GetBytes(s.Name));
            strings.Add(0);
            e[4] = (byte)(((int)s.Binding << 4) | (int)s.Type);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(e[6..], s.SectionIndex);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(e[8..], s.Value);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(e[16..], s.Size);
        }
        return (entries, [.. strings]);
    }

    private static void AssertChoosesAsReference(ElfSymbol[] symbols)
    {
        var table = new FunctionSymbolTable(symbols);
        (ElfSymbol[] kept, Dictionary<ulong, string> valgrind) = Reference(symbols);
        Assert.Equal(kept.Length, table.Count);
        foreach (ElfSymbol expected in kept)
        {
            (ElfSymbol Symbol, ulong Offset)? found = table.Find(expected.Value);
            Assert.NotNull(found);
            // By value: the table keeps its symbols as columns and makes the record it returns (two
            // aliases equal in every field are the same answer).
            Assert.Equal(expected, found.Value.Symbol);
            Assert.Equal(valgrind.GetValueOrDefault(expected.Value, expected.Name), table.ValgrindName(found.Value.Symbol));
        }
    }

    // The constructor as it was: stable orderings, DistinctBy, and Valgrind's name by Aggregate over each address's group.
    private static (ElfSymbol[] Kept, Dictionary<ulong, string> Valgrind) Reference(IEnumerable<ElfSymbol> symbols)
    {
        ElfSymbol[] functions = symbols
            .Where(s => s.IsDefined && s.Value != 0 && s.Name.Length > 0 && s.Type is ElfSymbolType.Func or ElfSymbolType.GnuIfunc)
            .ToArray();
        ElfSymbol[] kept = functions
            .OrderBy(s => s.Value)
            .ThenBy(s => s.Binding switch { ElfSymbolBinding.Global => 0, ElfSymbolBinding.Weak => 1, _ => 2 })
            .ThenBy(s => s.Name.Length - s.Name.TrimStart('_').Length)
            .ThenBy(s => s.Name.Length)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .DistinctBy(s => s.Value)
            .ToArray();
        var valgrind = new Dictionary<ulong, string>();
        foreach (IGrouping<ulong, ElfSymbol> aliases in functions.GroupBy(s => s.Value))
        {
            string preferred = aliases.Select(s => s.Name).Aggregate((a, b) => Prefers(a, b) ? a : b);
            if (preferred != kept.First(s => s.Value == aliases.Key).Name) valgrind[aliases.Key] = preferred;
        }
        return (kept, valgrind);
    }

    private static bool Prefers(string a, string b)
    {
        int versionA = a.IndexOf('@', StringComparison.Ordinal), versionB = b.IndexOf('@', StringComparison.Ordinal);
        int lengthA = versionA < 0 ? a.Length : versionA, lengthB = versionB < 0 ? b.Length : versionB;
        if (lengthA != lengthB) return lengthA < lengthB;
        if ((versionA < 0) != (versionB < 0)) return versionA >= 0;
        return string.CompareOrdinal(a, b) <= 0;
    }
}
