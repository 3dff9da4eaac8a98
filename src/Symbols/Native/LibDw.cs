using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Checker.Symbols.Native;

/// <summary>
/// The part of elfutils' libdw (libdw.so.1, Debian package libdw1) that Checker calls. Declarations
/// follow elfutils' libdw.h (0.188 here); only the plain DWARF reader (<c>dwarf_*</c>) is used, no
/// libdwfl: <see cref="Dwarf.DwarfFile"/> says why. Every pointer returned by libdw points into
/// the <c>Dwarf</c> session it came from and is valid only while that session is open.
/// </summary>
internal static unsafe partial class LibDw
{
    private const string Library = "libdw.so.1";
    private const string ElfLibrary = "libelf.so.1";

    /// <summary>Dwarf_Cmd DWARF_C_READ: read-only session over a file descriptor.</summary>
    public const int DWARF_C_READ = 0;

    public const int DW_TAG_entry_point = 0x03;
    public const int DW_TAG_compile_unit = 0x11;
    public const int DW_TAG_inlined_subroutine = 0x1d;
    public const int DW_TAG_subprogram = 0x2e;
    public const int DW_TAG_class_type = 0x02;
    public const int DW_TAG_structure_type = 0x13;
    public const int DW_TAG_union_type = 0x17;
    public const int DW_TAG_namespace = 0x39;

    public const uint DW_AT_name = 0x03;
    public const uint DW_AT_comp_dir = 0x1b;
    public const uint DW_AT_call_file = 0x58;
    public const uint DW_AT_call_line = 0x59;
    public const uint DW_AT_linkage_name = 0x6e;
    public const uint DW_AT_abstract_origin = 0x31;
    public const uint DW_AT_specification = 0x47;
    public const uint DW_AT_MIPS_linkage_name = 0x2007;

    public const byte DW_UT_compile = 0x01;
    public const byte DW_UT_skeleton = 0x04;

    /// <summary>Dwarf *dwarf_begin (int fildes, Dwarf_Cmd cmd); the descriptor stays the caller's.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_begin")]
    public static partial SafeDwarfHandle Begin(int fd, int cmd);

    /// <summary>int dwarf_end (Dwarf *dwarf).</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_end")]
    public static partial int End(nint dwarf);

    /// <summary>Dwarf_Die *dwarf_addrdie (Dwarf *dbg, Dwarf_Addr addr, Dwarf_Die *result): the CU whose .debug_aranges entry covers addr.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_addrdie")]
    public static partial DwarfDie* AddrDie(SafeDwarfHandle dwarf, ulong address, DwarfDie* result);

    /// <summary>Elf *dwarf_getelf (Dwarf *dwarf): the ELF descriptor the session reads (its sections decompressed).</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_getelf")]
    public static partial nint GetElf(SafeDwarfHandle dwarf);

    /// <summary>
    /// int dwarf_next_unit (Dwarf *dwarf, Dwarf_Off off, Dwarf_Off *next_off, size_t *header_sizep, Dwarf_Half *versionp,
    /// Dwarf_Off *abbrev_offsetp, uint8_t *address_sizep, uint8_t *offset_sizep, uint64_t *v4_type_signaturep,
    /// Dwarf_Off *v4_type_offsetp): reads the header of the unit at off; 0, 1 past the last, -1 on error.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "dwarf_next_unit")]
    public static partial int NextUnit(SafeDwarfHandle dwarf, ulong offset, ulong* nextOffset, nuint* headerSize, ushort* version,
        ulong* abbrevOffset, byte* addressSize, byte* offsetSize, ulong* typeSignature, ulong* typeOffset);

    /// <summary>Dwarf_Die *dwarf_offdie (Dwarf *dbg, Dwarf_Off offset, Dwarf_Die *result): the DIE at offset in .debug_info.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_offdie")]
    public static partial DwarfDie* OffDie(SafeDwarfHandle dwarf, ulong offset, DwarfDie* result);

    /// <summary>int dwarf_get_units (Dwarf *, Dwarf_CU *cu, Dwarf_CU **next_cu, Dwarf_Half *version, uint8_t *unit_type, Dwarf_Die *cudie, Dwarf_Die *subdie): 0, or 1 after the last unit.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_get_units")]
    public static partial int GetUnits(SafeDwarfHandle dwarf, nint cu, nint* nextCu, ushort* version, byte* unitType, DwarfDie* cuDie, DwarfDie* subDie);

    /// <summary>int dwarf_haspc (Dwarf_Die *die, Dwarf_Addr pc): 1 when pc is in the DIE's ranges.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_haspc")]
    public static partial int HasPc(DwarfDie* die, ulong pc);

    /// <summary>Dwarf_Line *dwarf_getsrc_die (Dwarf_Die *cudie, Dwarf_Addr addr): the line-table row covering addr.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_getsrc_die")]
    public static partial nint GetSrcDie(DwarfDie* cuDie, ulong address);

    /// <summary>int dwarf_lineno (Dwarf_Line *line, int *linep).</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_lineno")]
    public static partial int LineNo(nint line, int* lineNumber);

    /// <summary>const char *dwarf_linesrc (Dwarf_Line *line, Dwarf_Word *mtime, Dwarf_Word *length).</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_linesrc")]
    public static partial byte* LineSrc(nint line, ulong* mtime, ulong* length);

    /// <summary>
    /// int dwarf_getscopes (Dwarf_Die *cudie, Dwarf_Addr pc, Dwarf_Die **scopes): the DIEs whose
    /// ranges contain pc, innermost first, in a malloc'd array (free it with libc free).
    /// </summary>
    [LibraryImport(Library, EntryPoint = "dwarf_getscopes")]
    public static partial int GetScopes(DwarfDie* cuDie, ulong pc, DwarfDie** scopes);

    /// <summary>int dwarf_getscopes_die (Dwarf_Die *die, Dwarf_Die **scopes): die and the DIEs that contain it, in a malloc'd array.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_getscopes_die")]
    public static partial int GetScopesDie(DwarfDie* die, DwarfDie** scopes);

    /// <summary>int dwarf_tag (Dwarf_Die *die).</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_tag")]
    public static partial int Tag(DwarfDie* die);

    /// <summary>Dwarf_Attribute *dwarf_attr (Dwarf_Die *die, unsigned int search_name, Dwarf_Attribute *result).</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_attr")]
    public static partial DwarfAttribute* Attr(DwarfDie* die, uint name, DwarfAttribute* result);

    /// <summary>As dwarf_attr, following DW_AT_abstract_origin and DW_AT_specification.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_attr_integrate")]
    public static partial DwarfAttribute* AttrIntegrate(DwarfDie* die, uint name, DwarfAttribute* result);

    /// <summary>const char *dwarf_formstring (Dwarf_Attribute *attrp); NULL for a null attribute.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_formstring")]
    public static partial byte* FormString(DwarfAttribute* attribute);

    /// <summary>Dwarf_Die *dwarf_formref_die (Dwarf_Attribute *attr, Dwarf_Die *result): the DIE a reference attribute points to.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_formref_die")]
    public static partial DwarfDie* FormRefDie(DwarfAttribute* attribute, DwarfDie* result);

    /// <summary>int dwarf_formudata (Dwarf_Attribute *attr, Dwarf_Word *return_uval); 0 on success.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_formudata")]
    public static partial int FormUData(DwarfAttribute* attribute, ulong* value);

    /// <summary>int dwarf_getsrcfiles (Dwarf_Die *cudie, Dwarf_Files **files, size_t *nfiles); 0 on success.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_getsrcfiles")]
    public static partial int GetSrcFiles(DwarfDie* cuDie, nint* files, nuint* count);

    /// <summary>const char *dwarf_filesrc (Dwarf_Files *file, size_t idx, Dwarf_Word *mtime, Dwarf_Word *length).</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_filesrc")]
    public static partial byte* FileSrc(nint files, nuint index, ulong* mtime, ulong* length);

    // --- Call frame information (src/Symbols/Unwinding) ---

    /// <summary>libelf's Elf_Cmd / version constant EV_CURRENT.</summary>
    public const uint EV_CURRENT = 1;

    /// <summary>Elf *dwelf_elf_begin (int fd): libelf handle of an (uncompressed) ELF file; release with elf_end.</summary>
    [LibraryImport(Library, EntryPoint = "dwelf_elf_begin")]
    public static partial nint DwelfElfBegin(int fd);

    /// <summary>unsigned int elf_version (unsigned int version): libelf must be told the version before elf_begin.</summary>
    [LibraryImport(ElfLibrary, EntryPoint = "elf_version")]
    public static partial uint ElfVersion(uint version);

    /// <summary>int elf_end (Elf *elf) (libelf.so.1, which libdw itself links).</summary>
    [LibraryImport(ElfLibrary, EntryPoint = "elf_end")]
    public static partial int ElfEnd(nint elf);

    /// <summary>Dwarf_CFI *dwarf_getcfi_elf (Elf *elf): the .eh_frame CFI of the file (found through PT_GNU_EH_FRAME or the section), or NULL; the Elf must outlive it.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_getcfi_elf")]
    public static partial nint GetCfiElf(nint elf);

    /// <summary>int dwarf_cfi_end (Dwarf_CFI *cache): releases a CFI from dwarf_getcfi_elf.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_cfi_end")]
    public static partial int CfiEnd(nint cfi);

    /// <summary>
    /// int dwarf_cfi_addrframe (Dwarf_CFI *cache, Dwarf_Addr address, Dwarf_Frame **frame): the
    /// register rules in effect at a link-time address, in a malloc'd Dwarf_Frame (free it with
    /// libc free). 0 on success, -1 when no FDE covers the address.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "dwarf_cfi_addrframe")]
    public static partial int CfiAddrFrame(nint cfi, ulong address, nint* frame);

    /// <summary>int dwarf_frame_info (Dwarf_Frame *frame, Dwarf_Addr *start, Dwarf_Addr *end, bool *signalp): the return-address register number; signalp says the FDE is a signal frame's ('S' augmentation).</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_frame_info")]
    public static partial int FrameInfo(nint frame, ulong* start, ulong* end, byte* signal);

    /// <summary>int dwarf_frame_cfa (Dwarf_Frame *frame, Dwarf_Op **ops, size_t *nops): the CFA as a DWARF expression (a register+offset rule reads DW_OP_bregx reg offset); 0 on success.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_frame_cfa")]
    public static partial int FrameCfa(nint frame, DwarfOp** ops, nuint* count);

    /// <summary>
    /// int dwarf_frame_register (Dwarf_Frame *frame, int regno, Dwarf_Op ops_mem[3], Dwarf_Op **ops, size_t *nops):
    /// the location (or, ending in DW_OP_stack_value, the value) of the caller's register regno.
    /// With *nops 0, *ops NULL means the same value as in this frame, *ops == ops_mem undefined (as libdw 0.188 behaves).
    /// </summary>
    [LibraryImport(Library, EntryPoint = "dwarf_frame_register")]
    public static partial int FrameRegister(nint frame, int register, DwarfOp* opsMemory, DwarfOp** ops, nuint* count);

    /// <summary>int dwarf_errno (void): the thread's last libdw error, cleared by reading it.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_errno")]
    public static partial int Errno();

    /// <summary>const char *dwarf_errmsg (int err); -1 means the last error.</summary>
    [LibraryImport(Library, EntryPoint = "dwarf_errmsg")]
    public static partial byte* ErrMsg(int error);

    /// <summary>The text of libdw's last error on this thread.</summary>
    public static string LastError() => Marshal.PtrToStringUTF8((nint)ErrMsg(-1)) ?? "unknown libdw error";

    /// <summary>A NUL-terminated UTF-8 string owned by libdw, copied; null for NULL.</summary>
    public static string? String(byte* text) => text == null ? null : Marshal.PtrToStringUTF8((nint)text);
}

/// <summary>
/// Dwarf_Die: a position in .debug_info, plain data that libdw fills in (four machine words:
/// addr, cu, abbrev, padding). Valid only while its Dwarf session is open.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DwarfDie
{
    public nint Address;
    public nint Cu;
    public nint Abbrev;
    public nint Padding;
}

/// <summary>Dwarf_Op: one DWARF expression operation (atom, two operands, offset in the expression; 32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DwarfOp
{
    public byte Atom;
    public ulong Number;
    public ulong Number2;
    public ulong Offset;
}

/// <summary>Dwarf_Attribute: code, form, value pointer, CU (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DwarfAttribute
{
    public uint Code;
    public uint Form;
    public nint Value;
    public nint Cu;
}

/// <summary>Owns one <c>Dwarf *</c> session; released with dwarf_end.</summary>
internal sealed class SafeDwarfHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeDwarfHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => LibDw.End(handle) == 0;
}
