namespace Checker.Symbols.Elf;

/// <summary>
/// A program header's type (p_type): PT_NULL, PT_LOAD, ... PT_GNU_PROPERTY. Values not named here
/// are kept as they are, so unknown segments survive a round trip.
/// </summary>
public enum ElfSegmentType : uint
{
    Null = ElfConstants.PT_NULL,
    Load = ElfConstants.PT_LOAD,
    Dynamic = ElfConstants.PT_DYNAMIC,
    Interp = ElfConstants.PT_INTERP,
    Note = ElfConstants.PT_NOTE,
    Shlib = ElfConstants.PT_SHLIB,
    Phdr = ElfConstants.PT_PHDR,
    Tls = ElfConstants.PT_TLS,
    GnuEhFrame = ElfConstants.PT_GNU_EH_FRAME,
    GnuStack = ElfConstants.PT_GNU_STACK,
    GnuRelro = ElfConstants.PT_GNU_RELRO,
    GnuProperty = ElfConstants.PT_GNU_PROPERTY,
}
