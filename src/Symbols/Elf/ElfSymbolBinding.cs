namespace Checker.Symbols.Elf;

/// <summary>A symbol's binding: the high nibble of st_info (STB_*).</summary>
public enum ElfSymbolBinding : byte
{
    Local = 0,
    Global = 1,
    Weak = 2,
    GnuUnique = 10,
}
