using System.Runtime.InteropServices;

namespace Checker.Symbols.Native;

/// <summary>
/// The part of elfutils' libelf (libelf.so.1, which libdw links) that rewrites a file with its
/// compressed sections decompressed, as elfutils' own eu-elfcompress does (<see cref="DebugFiles.DecompressedDebugFiles"/>),
/// and finds a section's bytes in a libdw session's file (<see cref="Dwarf.DwarfFile"/>'s .debug_aranges).
/// Declarations follow libelf.h and gelf.h (0.188 here).
/// </summary>
internal static unsafe partial class LibElf
{
    private const string Library = "libelf.so.1";

    /// <summary>Elf_Cmd: read and write the descriptor's file; write the image back.</summary>
    public const int ELF_C_RDWR = 2, ELF_C_WRITE = 3;

    /// <summary>elf_compress's type: decompress.</summary>
    public const int ELF_COMPRESS_NONE = 0;

    /// <summary>GElf_Shdr (Elf64_Shdr).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SectionHeader
    {
        public uint Name, Type;
        public ulong Flags, Address, Offset, Size;
        public uint Link, Info;
        public ulong Alignment, EntrySize;
    }

    [LibraryImport(Library, EntryPoint = "elf_version")]
    public static partial uint Version(uint version);

    [LibraryImport(Library, EntryPoint = "elf_begin")]
    public static partial nint Begin(int fd, int command, nint reference);

    [LibraryImport(Library, EntryPoint = "elf_end")]
    public static partial int End(nint elf);

    [LibraryImport(Library, EntryPoint = "elf_nextscn")]
    public static partial nint NextSection(nint elf, nint section);

    /// <summary>Elf_Data: a section's bytes as libelf holds them.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Data
    {
        public nint Buffer;
        public int Type;
        public uint DataVersion;
        public nuint Size;
        public long Offset;
        public nuint Alignment;
    }

    /// <summary>int elf_getshdrstrndx (Elf *elf, size_t *dst): the section names' section; 0 or -1.</summary>
    [LibraryImport(Library, EntryPoint = "elf_getshdrstrndx")]
    public static partial int GetSectionNamesIndex(nint elf, nuint* index);

    /// <summary>char *elf_strptr (Elf *elf, size_t section, size_t offset).</summary>
    [LibraryImport(Library, EntryPoint = "elf_strptr")]
    public static partial byte* StringAt(nint elf, nuint section, nuint offset);

    /// <summary>Elf_Data *elf_getdata (Elf_Scn *scn, Elf_Data *data): the section's (next) data.</summary>
    [LibraryImport(Library, EntryPoint = "elf_getdata")]
    public static partial Data* GetData(nint section, Data* previous);

    [LibraryImport(Library, EntryPoint = "gelf_getshdr")]
    public static partial SectionHeader* GetSectionHeader(nint section, SectionHeader* header);

    /// <summary>int elf_compress (Elf_Scn *scn, int type, unsigned int flags): 1 done, 0 nothing to do, -1 error.</summary>
    [LibraryImport(Library, EntryPoint = "elf_compress")]
    public static partial int Compress(nint section, int type, uint flags);

    /// <summary>off_t elf_update (Elf *elf, Elf_Cmd cmd): lays the file out again and, with ELF_C_WRITE, writes it; -1 on error.</summary>
    [LibraryImport(Library, EntryPoint = "elf_update")]
    public static partial long Update(nint elf, int command);
}
