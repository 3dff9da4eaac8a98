namespace Checker.Symbols.Elf;

/// <summary>
/// Numbers from the ELF64 gABI, the GNU extensions and the x86-64 psABI, spelled as in elf.h so
/// they can be grepped against the specifications.
/// </summary>
public static class ElfConstants
{
    // Sizes of the ELF64 structures.
    public const int EhdrSize = 64, PhdrSize = 56, ShdrSize = 64, SymSize = 24, NhdrSize = 12;

    // e_ident.
    public const int EI_CLASS = 4, EI_DATA = 5;
    public const byte ELFCLASS32 = 1, ELFCLASS64 = 2;
    public const byte ELFDATA2LSB = 1, ELFDATA2MSB = 2;

    // e_machine.
    public const ushort EM_X86_64 = 62;

    // p_type.
    public const uint PT_NULL = 0, PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4, PT_SHLIB = 5;
    public const uint PT_PHDR = 6, PT_TLS = 7;
    public const uint PT_GNU_EH_FRAME = 0x6474e550, PT_GNU_STACK = 0x6474e551, PT_GNU_RELRO = 0x6474e552;
    public const uint PT_GNU_PROPERTY = 0x6474e553;

    // sh_type.
    public const uint SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4, SHT_HASH = 5;
    public const uint SHT_DYNAMIC = 6, SHT_NOTE = 7, SHT_NOBITS = 8, SHT_REL = 9, SHT_DYNSYM = 11;

    // sh_flags.
    public const ulong SHF_WRITE = 0x1, SHF_ALLOC = 0x2, SHF_EXECINSTR = 0x4, SHF_COMPRESSED = 0x800;

    // Special section indexes.
    public const ushort SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2, SHN_XINDEX = 0xffff;

    // Notes.
    public const uint NT_GNU_BUILD_ID = 3;
    public const string GnuNoteOwner = "GNU";
}
