using System.Buffers.Binary;

namespace Checker.Tests.Loading;

/// <summary>One mutated ELF file and the edits that made it from its original.</summary>
public sealed record ElfMutant(string Original, int Seed, int Index, byte[] Bytes, string Description);

/// <summary>
/// Derives damaged ELF files from a real one, deterministically from a seed: 1 to 3 edits among an
/// ELF header field, a program header field, a section header field (each set to a value from a
/// list of boundary cases or near the old one), byte damage in the header tables or in the data the
/// loader reads (PT_INTERP, notes, symbol and string tables), and truncation.
/// </summary>
public sealed class ElfMutator(string originalName, byte[] original, int seed)
{
    private const int PhdrSize = 56, ShdrSize = 64;

    private static readonly (string Name, int Offset, int Size)[] HeaderFields =
    [
        ("EI_CLASS", 4, 1), ("EI_DATA", 5, 1), ("EI_VERSION", 6, 1), ("EI_OSABI", 7, 1), ("e_type", 16, 2), ("e_machine", 18, 2),
        ("e_version", 20, 4), ("e_entry", 24, 8), ("e_phoff", 32, 8), ("e_shoff", 40, 8), ("e_flags", 48, 4), ("e_ehsize", 52, 2),
        ("e_phentsize", 54, 2), ("e_phnum", 56, 2), ("e_shentsize", 58, 2), ("e_shnum", 60, 2), ("e_shstrndx", 62, 2),
    ];

    private static readonly (string Name, int Offset, int Size)[] ProgramHeaderFields =
    [
        ("p_type", 0, 4), ("p_flags", 4, 4), ("p_offset", 8, 8), ("p_vaddr", 16, 8), ("p_paddr", 24, 8), ("p_filesz", 32, 8),
        ("p_memsz", 40, 8), ("p_align", 48, 8),
    ];

    private static readonly (string Name, int Offset, int Size)[] SectionHeaderFields =
    [
        ("sh_name", 0, 4), ("sh_type", 4, 4), ("sh_flags", 8, 8), ("sh_addr", 16, 8), ("sh_offset", 24, 8), ("sh_size", 32, 8),
        ("sh_link", 40, 4), ("sh_info", 44, 4), ("sh_addralign", 48, 8), ("sh_entsize", 56, 8),
    ];

    private static readonly ulong[] Boundaries =
    [
        0, 1, 2, 3, 6, 7, 56, 64, 73, 74, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x1001, 0x7fff, 0x8000, 0xffff, 0x10000,
        0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 0x7fff_ffff_f000, 0x8000_0000_0000, 1UL << 56, 1UL << 62,
        0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 0xfff,
    ];

    private readonly Random _random = new(seed);
    private int _index;

    public int Seed => seed;

    /// <summary>The next mutant of the stream.</summary>
    public ElfMutant Next()
    {
        byte[] bytes = (byte[])original.Clone();
        var edits = new List<string>();
        for (int n = _random.Next(1, 4); n > 0; n--) bytes = Mutate(bytes, edits);
        return new ElfMutant(originalName, seed, _index++, bytes, string.Join("; ", edits));
    }

    private byte[] Mutate(byte[] bytes, List<string> edits)
    {
        int choice = _random.Next(100);
        if (choice < 22) SetField(bytes, 0, HeaderFields, "ehdr", edits);
        else if (choice < 52) SetTableField(bytes, ProgramHeaderTable(bytes), PhdrSize, ProgramHeaderFields, "phdr", edits);
        else if (choice < 67) SetTableField(bytes, SectionHeaderTable(bytes), ShdrSize, SectionHeaderFields, "shdr", edits);
        else if (choice < 77) DamageBytes(bytes, edits);
        else if (choice < 87) DamageLoaderData(bytes, edits);
        else return Truncate(bytes, edits);
        return bytes;
    }

    private (int Offset, int Count) ProgramHeaderTable(byte[] bytes) => Table(bytes, 32, 56, PhdrSize);

    private (int Offset, int Count) SectionHeaderTable(byte[] bytes) => Table(bytes, 40, 60, ShdrSize);

    /// <summary>Where the table of the original lies (the mutant's own header may already be damaged).</summary>
    private (int Offset, int Count) Table(byte[] bytes, int offsetField, int countField, int entrySize)
    {
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(original.AsSpan(offsetField));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(original.AsSpan(countField));
        if (offset >= (ulong)bytes.Length) return (0, 0);
        count = (int)Math.Min((ulong)count, ((ulong)bytes.Length - offset) / (ulong)entrySize);
        return ((int)offset, count);
    }

    private void SetTableField(byte[] bytes, (int Offset, int Count) table, int entrySize,
        (string Name, int Offset, int Size)[] fields, string what, List<string> edits)
    {
        if (table.Count == 0)
        {
            SetField(bytes, 0, HeaderFields, "ehdr", edits);
            return;
        }
        int entry = _random.Next(table.Count);
        SetField(bytes, table.Offset + entry * entrySize, fields, $"{what}[{entry}]", edits);
    }

    private void SetField(byte[] bytes, int at, (string Name, int Offset, int Size)[] fields, string what, List<string> edits)
    {
        (string name, int offset, int size) = fields[_random.Next(fields.Length)];
        if (at + offset + size > bytes.Length) return; // cut off by an earlier truncation
        Span<byte> field = bytes.AsSpan(at + offset, size);
        ulong old = Read(field);
        ulong value = Interesting(old, size);
        Write(field, value);
        edits.Add($"{what}.{name} 0x{old:x} -> 0x{Read(field):x}");
    }

    private ulong Interesting(ulong old, int size)
    {
        ulong value = _random.Next(6) switch
        {
            0 or 1 => Boundaries[_random.Next(Boundaries.Length)],
            2 => old + (ulong)_random.Next(1, 17),
            3 => old - (ulong)_random.Next(1, 17),
            4 => old + (_random.Next(2) == 0 ? 0x1000UL : unchecked((ulong)-0x1000L)),
            _ => old ^ (1UL << _random.Next(size * 8)),
        };
        return size == 8 ? value : value & ((1UL << (size * 8)) - 1);
    }

    private void DamageBytes(byte[] bytes, List<string> edits)
    {
        // Mostly the header tables, sometimes anywhere.
        if (bytes.Length == 0) return;
        var (ph, phCount) = ProgramHeaderTable(bytes);
        var (sh, shCount) = SectionHeaderTable(bytes);
        int flips = _random.Next(1, 9);
        var where = new List<int>();
        for (int i = 0; i < flips; i++)
        {
            int at = _random.Next(4) switch
            {
                0 => _random.Next(16, 64),
                1 when phCount > 0 => ph + _random.Next(phCount * PhdrSize),
                2 when shCount > 0 => sh + _random.Next(shCount * ShdrSize),
                _ => _random.Next(bytes.Length),
            };
            if (at >= bytes.Length) continue; // a truncated file
            bytes[at] = (byte)_random.Next(256);
            where.Add(at);
        }
        edits.Add($"random bytes at {string.Join(",", where.Select(w => $"0x{w:x}"))}");
    }

    /// <summary>Damages the bytes a loader reads through the tables: PT_INTERP, PT_NOTE, or a section's data.</summary>
    private void DamageLoaderData(byte[] bytes, List<string> edits)
    {
        var areas = new List<(string Name, ulong Offset, ulong Size)>();
        var (ph, phCount) = ProgramHeaderTable(bytes);
        for (int i = 0; i < phCount; i++)
        {
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(ph + i * PhdrSize));
            if (type is 3 or 4) // PT_INTERP, PT_NOTE
                areas.Add(($"phdr[{i}] data", Read(original.AsSpan(ph + i * PhdrSize + 8, 8)), Read(original.AsSpan(ph + i * PhdrSize + 32, 8))));
        }
        var (sh, shCount) = SectionHeaderTable(bytes);
        for (int i = 0; i < shCount; i++)
        {
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(sh + i * ShdrSize + 4));
            if (type is 2 or 3 or 7 or 11) // symtab, strtab, note, dynsym
                areas.Add(($"shdr[{i}] data", Read(original.AsSpan(sh + i * ShdrSize + 24, 8)), Read(original.AsSpan(sh + i * ShdrSize + 32, 8))));
        }
        areas.RemoveAll(a => a.Size == 0 || a.Offset + a.Size > (ulong)bytes.Length);
        if (areas.Count == 0)
        {
            DamageBytes(bytes, edits);
            return;
        }
        var (name, offset, size) = areas[_random.Next(areas.Count)];
        int count = _random.Next(1, 5);
        for (int i = 0; i < count; i++)
        {
            ulong at = offset + (ulong)_random.NextInt64((long)size);
            bytes[at] = _random.Next(3) == 0 ? (byte)0 : (byte)_random.Next(256);
        }
        edits.Add($"{count} bytes of {name} (0x{offset:x}+0x{size:x})");
    }

    private byte[] Truncate(byte[] bytes, List<string> edits)
    {
        int length = _random.Next(3) switch
        {
            0 => _random.Next(Math.Min(bytes.Length, 8192)),
            1 => Math.Max(0, bytes.Length - _random.Next(1, 8192)),
            _ => _random.Next(bytes.Length),
        };
        edits.Add($"truncated to {length} bytes");
        return bytes[..length];
    }

    private static ulong Read(ReadOnlySpan<byte> field) => field.Length switch
    {
        1 => field[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(field),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(field),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(field),
    };

    private static void Write(Span<byte> field, ulong value)
    {
        switch (field.Length)
        {
            case 1: field[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)value); break;
            default: BinaryPrimitives.WriteUInt64LittleEndian(field, value); break;
        }
    }
}
