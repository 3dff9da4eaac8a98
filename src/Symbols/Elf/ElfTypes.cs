namespace Checker.Symbols.Elf;

/// <summary>e_type.</summary>
public enum ElfType : ushort { None = 0, Relocatable = 1, Executable = 2, Shared = 3, Core = 4 }

/// <summary>p_type (unknown values are kept as they are).</summary>
public enum ElfSegmentType : uint
{
    Null = 0, Load = 1, Dynamic = 2, Interp = 3, Note = 4, Shlib = 5, Phdr = 6, Tls = 7,
    GnuEhFrame = 0x6474e550, GnuStack = 0x6474e551, GnuRelro = 0x6474e552, GnuProperty = 0x6474e553,
}

/// <summary>p_flags.</summary>
[Flags]
public enum ElfSegmentFlags : uint { None = 0, Execute = 1, Write = 2, Read = 4 }

/// <summary>One program header (ELF64 Phdr).</summary>
public readonly record struct ElfProgramHeader(
    ElfSegmentType Type, ElfSegmentFlags Flags, ulong Offset, ulong VirtualAddress, ulong PhysicalAddress,
    ulong FileSize, ulong MemorySize, ulong Align);

/// <summary>One section header (ELF64 Shdr) with its resolved name.</summary>
public sealed record ElfSection(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize);

/// <summary>One symbol of .symtab or .dynsym.</summary>
public sealed record ElfSymbol(string Name, ulong Value, ulong Size, ElfSymbolType Type, byte Binding, ushort SectionIndex);

/// <summary>The low nibble of st_info.</summary>
public enum ElfSymbolType : byte { NoType = 0, Object = 1, Func = 2, Section = 3, File = 4, Common = 5, Tls = 6, GnuIfunc = 10 }

/// <summary>Numbers from the ELF64 and x86-64 psABI specifications.</summary>
public static class ElfConstants
{
    public const int HeaderSize = 64, ProgramHeaderSize = 56, SectionHeaderSize = 64, SymbolSize = 24;
    public const byte ClassElf64 = 2, ClassElf32 = 1, DataLittleEndian = 1;
    public const ushort MachineX86_64 = 62;
    public const uint ShtSymtab = 2, ShtStrtab = 3, ShtNote = 7, ShtDynsym = 11;
    public const uint NtGnuBuildId = 3;
}
