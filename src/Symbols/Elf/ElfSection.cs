namespace Checker.Symbols.Elf;

/// <summary>
/// One ELF64 section header (Elf64_Shdr) with its name resolved through .shstrtab.
/// <see cref="Type"/> and <see cref="Flags"/> are the raw SHT_* / SHF_* values of <see cref="ElfConstants"/>.
/// </summary>
public sealed record ElfSection(
    string Name,
    uint Type,
    ulong Flags,
    ulong Address,
    ulong Offset,
    ulong Size,
    uint Link,
    uint Info,
    ulong Alignment,
    ulong EntrySize)
{
    /// <summary>True when the section occupies no bytes in the file (.bss, or data stripped into a separate debug file).</summary>
    public bool HasNoFileData => Type is ElfConstants.SHT_NOBITS or ElfConstants.SHT_NULL;
}
