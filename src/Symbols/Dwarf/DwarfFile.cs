using System.Runtime.InteropServices;
using Checker.Symbols.Demangling;
using Checker.Symbols.Native;
using Checker.Symbols.Symbolization;
using Microsoft.Win32.SafeHandles;
using static Checker.Symbols.Native.LibDw;

namespace Checker.Symbols.Dwarf;

/// <summary>One source position of a code address: the function and where in the source it is.</summary>
/// <param name="Function">Demangled function name, or null when DWARF names no function there.</param>
/// <param name="File">Source file (absolute when the compile unit's comp_dir is), or null.</param>
/// <param name="Line">1-based line, or null when the line table says 0 (no source line) or nothing.</param>
/// <param name="Inlined">This function was inlined into the next frame.</param>
/// <param name="PlainName">DW_AT_name as written (through abstract origins and specifications), unqualified and
/// unmangled: the name Valgrind gives an inlined call in stacks and suppressions.</param>
internal readonly record struct DwarfFrame(string? Function, string? File, int? Line, bool Inlined, string? PlainName = null);

/// <summary>
/// The DWARF of one ELF file (an executable or library built with -g, or a separate .debug file),
/// read through elfutils' libdw.
///
/// Why the plain <c>dwarf_*</c> API and not libdwfl's "offline" session: Checker already knows
/// each module's path and load bias, reads symbol tables itself (<see cref="Elf.ElfImage"/>) and
/// must find separate debug files in a fixed, documented order (<see cref="DebugFiles.DebugFileLocator"/>);
/// libdwfl would redo all three behind callbacks. So a module's addresses are unbiased here and
/// the lookup is, as in eu-addr2line -i:
/// <list type="number">
/// <item>the compile unit: .debug_aranges read here (<see cref="UnitRanges"/>; <c>dwarf_addrdie</c>
/// when it cannot be), else a scan of the units with
/// <c>dwarf_haspc</c> (libdw 0.188 has no fallback of its own when .debug_aranges is missing or
/// leaves a unit out, e.g. assembly units);</item>
/// <item>the innermost file:line: <c>dwarf_getsrc_die</c>, <c>dwarf_linesrc</c>, <c>dwarf_lineno</c>;</item>
/// <item>the inlined chain: <c>dwarf_getscopes</c> gives the innermost scope holding the pc, and
/// <c>dwarf_getscopes_die</c> on it gives the scopes as nested in the code (getscopes itself
/// continues into the abstract origin of an inlined instance, which is right for variables, not
/// for frames). Each DW_TAG_inlined_subroutine met on the way out becomes a frame, and its
/// DW_AT_call_file/DW_AT_call_line are the position in the next function out.</item>
/// </list>
/// Function names come from DW_AT_linkage_name when it is a C++ mangled name (so methods read
/// <c>ns::Widget::resize(unsigned long)</c>), else DW_AT_name, through abstract origins and
/// specifications (<c>dwarf_attr_integrate</c>), qualified by the namespaces and classes that
/// declare the function (a static function in a namespace has no linkage name: <c>ns::f</c>).
///
/// Not thread-safe: a libdw session is not; the caller serialises (ModuleSymbolizer holds a lock).
/// </summary>
internal sealed unsafe class DwarfFile : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly SafeDwarfHandle _dwarf;

    // Every compile unit's DIE, read on the first address .debug_aranges does not cover.
    private DwarfDie[]? _units;

    // .debug_aranges as read by Checker, once (null: absent or not readable here: libdw's own lookup then).
    private UnitRanges? _ranges;
    private bool _rangesRead;

    // The enclosing namespaces and classes of a function's declaring DIE (keyed by its address in .debug_info).
    private readonly Dictionary<nint, string?> _scopes = [];

    private DwarfFile(string path, SafeFileHandle file, SafeDwarfHandle dwarf)
    {
        Path = path;
        _file = file;
        _dwarf = dwarf;
    }

    /// <summary>The file the DWARF is read from.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens the DWARF of <paramref name="path"/>; null when the file has none (libdw says
    /// "no DWARF information"), or cannot be read as ELF. I/O errors opening the file propagate.
    /// </summary>
    /// <param name="libdwRanges">Find units through libdw's <c>dwarf_addrdie</c> instead of <see cref="UnitRanges"/> (tests compare the two).</param>
    public static DwarfFile? Open(string path, bool libdwRanges = false)
    {
        SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        SafeDwarfHandle? dwarf = null;
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            // libdw keeps reading through the descriptor (libelf maps it), so the DwarfFile owns both.
            dwarf = Begin((int)file.DangerousGetHandle(), DWARF_C_READ);
            if (!dwarf.IsInvalid) return new DwarfFile(path, file, dwarf) { _rangesRead = libdwRanges };
            Errno(); // clear the thread's libdw error ("no DWARF information")
        }
        catch
        {
            dwarf?.Dispose();
            file.Dispose();
            throw;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
        dwarf.Dispose();
        file.Dispose();
        return null;
    }

    /// <summary>
    /// The frames at <paramref name="address"/> (unbiased, as in the file), innermost first:
    /// inlined functions, then the function they sit in. Empty when no compile unit covers the
    /// address; one frame with a null function when a unit does but no function DIE does.
    /// </summary>
    public IReadOnlyList<DwarfFrame> Frames(ulong address)
    {
        ObjectDisposedException.ThrowIf(_dwarf.IsClosed, this);
        DwarfDie cu;
        if (!FindUnit(address, &cu)) return [];

        string? compDir = StringAttribute(&cu, DW_AT_comp_dir, integrate: false);
        string? file = null;
        int? line = null;
        nint row = GetSrcDie(&cu, address);
        if (row != 0)
        {
            file = Absolute(String(LineSrc(row, null, null)), compDir);
            int number;
            if (LineNo(row, &number) == 0 && number > 0) line = number;
        }

        DwarfDie[] functions = FunctionScopes(&cu, address);
        if (functions.Length == 0) return [new DwarfFrame(null, file, line, false)];

        var frames = new List<DwarfFrame>(functions.Length);
        foreach (DwarfDie function in functions)
        {
            DwarfDie die = function;
            bool inlined = Tag(&die) == DW_TAG_inlined_subroutine;
            frames.Add(new DwarfFrame(FunctionName(&die), file, line, inlined, StringAttribute(&die, DW_AT_name, integrate: true)));
            if (!inlined) break;
            // The caller's position is where this instance was inlined.
            file = CallFile(&cu, &die, compDir);
            ulong callLine = UnsignedAttribute(&die, DW_AT_call_line) ?? 0;
            line = callLine is > 0 and <= int.MaxValue ? (int)callLine : null;
        }
        return frames;
    }

    public void Dispose()
    {
        _dwarf.Dispose();
        _file.Dispose();
    }

    /// <summary>The compile unit covering <paramref name="address"/>: .debug_aranges first, then every unit's ranges.</summary>
    private bool FindUnit(ulong address, DwarfDie* cu)
    {
        if (!_rangesRead)
        {
            _ranges = ReadRanges();
            _rangesRead = true;
        }
        if (_ranges != null)
        {
            // The same table libdw would read, without its pass over every unit's header.
            if (_ranges.TryFind(address, out ulong unit) && UnitDie(unit, cu)) return true;
        }
        else if (AddrDie(_dwarf, address, cu) != null) return true;
        Errno();

        _units ??= ReadUnits();
        foreach (DwarfDie unit in _units)
        {
            DwarfDie candidate = unit;
            if (HasPc(&candidate, address) == 1)
            {
                *cu = candidate;
                return true;
            }
        }
        Errno();
        return false;
    }

    /// <summary>The compile unit DIE of the unit at <paramref name="offset"/> in .debug_info.</summary>
    private bool UnitDie(ulong offset, DwarfDie* cu)
    {
        ulong next;
        nuint headerSize;
        if (NextUnit(_dwarf, offset, &next, &headerSize, null, null, null, null, null, null) != 0) return false;
        return OffDie(_dwarf, offset + headerSize, cu) != null;
    }

    /// <summary>The session's .debug_aranges, parsed; null when it has none or it cannot be read here.</summary>
    private UnitRanges? ReadRanges()
    {
        nint elf = GetElf(_dwarf);
        nuint names;
        if (elf == 0 || LibElf.GetSectionNamesIndex(elf, &names) != 0) return null;
        for (nint section = LibElf.NextSection(elf, 0); section != 0; section = LibElf.NextSection(elf, section))
        {
            LibElf.SectionHeader header;
            if (LibElf.GetSectionHeader(section, &header) == null) continue;
            byte* name = LibElf.StringAt(elf, names, header.Name);
            if (name == null || !MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name).SequenceEqual(".debug_aranges"u8)) continue;
            LibElf.Data* data = LibElf.GetData(section, null);
            if (data == null || data->Buffer == 0 || data->Size > int.MaxValue) return null;
            return UnitRanges.Parse(new ReadOnlySpan<byte>((void*)data->Buffer, (int)data->Size));
        }
        return null;
    }

    private DwarfDie[] ReadUnits()
    {
        var units = new List<DwarfDie>();
        nint current = 0;
        while (true)
        {
            nint next;
            ushort version;
            byte type;
            DwarfDie die;
            if (GetUnits(_dwarf, current, &next, &version, &type, &die, null) != 0) break;
            if (type is DW_UT_compile or DW_UT_skeleton) units.Add(die);
            current = next;
        }
        Errno();
        return [.. units];
    }

    /// <summary>The function-like scopes holding <paramref name="address"/> as nested in the code, innermost first, ending at the first real subprogram.</summary>
    private static DwarfDie[] FunctionScopes(DwarfDie* cu, ulong address)
    {
        DwarfDie* scopes = null;
        int count = GetScopes(cu, address, &scopes);
        if (count <= 0 || scopes == null)
        {
            NativeMemory.Free(scopes);
            Errno();
            return [];
        }
        DwarfDie innermost = scopes[0];
        NativeMemory.Free(scopes);

        DwarfDie* chain = null;
        count = GetScopesDie(&innermost, &chain);
        try
        {
            var functions = new List<DwarfDie>();
            for (int i = 0; i < count; i++)
            {
                int tag = Tag(&chain[i]);
                if (tag is not (DW_TAG_subprogram or DW_TAG_inlined_subroutine or DW_TAG_entry_point)) continue;
                functions.Add(chain[i]);
                if (tag != DW_TAG_inlined_subroutine) break;
            }
            if (count <= 0) Errno();
            return [.. functions];
        }
        finally
        {
            NativeMemory.Free(chain);
        }
    }

    private string? FunctionName(DwarfDie* function)
    {
        string? linkage = StringAttribute(function, DW_AT_linkage_name, integrate: true)
                          ?? StringAttribute(function, DW_AT_MIPS_linkage_name, integrate: true);
        if (linkage != null && Demangler.IsMangled(linkage)) return Demangler.Demangle(linkage);
        string? name = StringAttribute(function, DW_AT_name, integrate: true);
        if (name == null) return linkage;
        // No linkage name: GCC gives none to functions with internal linkage, so a static function
        // in a namespace is plain "f" in DWARF; gdb and addr2line -C show it as ns::f.
        return EnclosingScopes(function) is string scopes ? $"{scopes}::{name}" : name;
    }

    /// <summary>
    /// "ns::C" for a function declared in namespace ns, class C ("(anonymous namespace)" for an
    /// unnamed one); null at file scope. libdw has no parent links: <c>dwarf_getscopes_die</c> walks
    /// the unit down to the declaring DIE (it descends namespaces, classes and structs), so the
    /// answer is cached per declaration.
    /// </summary>
    private string? EnclosingScopes(DwarfDie* function)
    {
        DwarfDie declaration = Declaration(*function);
        if (_scopes.TryGetValue(declaration.Address, out string? cached)) return cached;
        DwarfDie* chain = null;
        int count = GetScopesDie(&declaration, &chain);
        var names = new List<string>();
        try
        {
            // chain[0] is the declaration itself, then its parents out to the unit.
            for (int i = count - 1; i >= 1; i--)
            {
                int tag = Tag(&chain[i]);
                string? scope = StringAttribute(&chain[i], DW_AT_name, integrate: false);
                if (tag == DW_TAG_namespace) names.Add(scope ?? "(anonymous namespace)");
                else if (tag is DW_TAG_class_type or DW_TAG_structure_type or DW_TAG_union_type && scope != null) names.Add(scope);
            }
        }
        finally
        {
            NativeMemory.Free(chain);
        }
        if (count <= 0) Errno();
        string? result = names.Count > 0 ? string.Join("::", names) : null;
        _scopes[declaration.Address] = result;
        return result;
    }

    /// <summary>
    /// The DIE that declares a function: through DW_AT_abstract_origin (an inlined or out-of-line
    /// instance) and DW_AT_specification (a definition outside its namespace or class body).
    /// </summary>
    private static DwarfDie Declaration(DwarfDie die)
    {
        for (int hop = 0; hop < 8; hop++)
        {
            DwarfAttribute attribute;
            DwarfAttribute* reference = Attr(&die, DW_AT_abstract_origin, &attribute);
            if (reference == null) reference = Attr(&die, DW_AT_specification, &attribute);
            DwarfDie next;
            if (reference == null || FormRefDie(reference, &next) == null) break;
            die = next;
        }
        Errno();
        return die;
    }

    private static string? CallFile(DwarfDie* cu, DwarfDie* inlined, string? compDir)
    {
        ulong? index = UnsignedAttribute(inlined, DW_AT_call_file);
        if (index == null) return null;
        nint files;
        nuint count;
        if (GetSrcFiles(cu, &files, &count) != 0)
        {
            Errno();
            return null;
        }
        if (index.Value >= count) return null;
        return Absolute(String(FileSrc(files, (nuint)index.Value, null, null)), compDir);
    }

    private static string? StringAttribute(DwarfDie* die, uint name, bool integrate)
    {
        DwarfAttribute attribute;
        DwarfAttribute* found = integrate ? AttrIntegrate(die, name, &attribute) : Attr(die, name, &attribute);
        if (found == null) return null;
        string? value = String(FormString(found));
        if (value == null) Errno();
        return value;
    }

    private static ulong? UnsignedAttribute(DwarfDie* die, uint name)
    {
        DwarfAttribute attribute;
        DwarfAttribute* found = Attr(die, name, &attribute);
        ulong value;
        if (found == null || FormUData(found, &value) != 0)
        {
            Errno();
            return null;
        }
        return value;
    }

    /// <summary>
    /// libdw already joins a line-table name with its directory entry (the compilation directory
    /// for DWARF 5); a name still relative is taken relative to the unit's DW_AT_comp_dir when that
    /// is absolute. Builds with -ffile-prefix-map (Debian's libc: comp_dir "./malloc") stay relative.
    /// Either way the result is normalised (<see cref="SourcePath"/>): <c>dir/../x.c</c> is <c>x.c</c>.
    /// </summary>
    private static string? Absolute(string? file, string? compDir)
    {
        if (string.IsNullOrEmpty(file)) return null;
        if (file[0] == '/' || compDir is not ['/', ..]) return SourcePath.Normalize(file);
        return SourcePath.Normalize(System.IO.Path.Join(compDir, file));
    }
}
