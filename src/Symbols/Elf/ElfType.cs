namespace Checker.Symbols.Elf;

/// <summary>The ELF file type (e_type).</summary>
public enum ElfType : ushort
{
    None = 0,
    Relocatable = 1,
    Executable = 2,
    Shared = 3,
    Core = 4,
}
