namespace Checker.Symbols.Elf;

/// <summary>One ELF64 program header (Elf64_Phdr).</summary>
public readonly record struct ElfProgramHeader(
    ElfSegmentType Type,
    ElfSegmentFlags Flags,
    ulong Offset,
    ulong VirtualAddress,
    ulong PhysicalAddress,
    ulong FileSize,
    ulong MemorySize,
    ulong Align);
