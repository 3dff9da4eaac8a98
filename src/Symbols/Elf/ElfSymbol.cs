namespace Checker.Symbols.Elf;

/// <summary>
/// One entry of .symtab or .dynsym. <see cref="Value"/> is the unbiased address for defined
/// symbols of executables and shared objects; <see cref="SectionIndex"/> 0 (SHN_UNDEF) means undefined.
/// </summary>
public sealed record ElfSymbol(
    string Name,
    ulong Value,
    ulong Size,
    ElfSymbolType Type,
    ElfSymbolBinding Binding,
    ushort SectionIndex)
{
    /// <summary>True when the symbol is defined in this file (not SHN_UNDEF).</summary>
    public bool IsDefined => SectionIndex != ElfConstants.SHN_UNDEF;
}
