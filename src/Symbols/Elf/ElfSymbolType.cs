namespace Checker.Symbols.Elf;

/// <summary>A symbol's type: the low nibble of st_info (STT_*).</summary>
public enum ElfSymbolType : byte
{
    NoType = 0,
    Object = 1,
    Func = 2,
    Section = 3,
    File = 4,
    Common = 5,
    Tls = 6,
    GnuIfunc = 10,
}
