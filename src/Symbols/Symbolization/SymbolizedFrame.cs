using System.Globalization;
using System.Text;

namespace Checker.Symbols.Symbolization;

/// <summary>
/// One frame of a symbolized code address. An address inside inlined code gives several frames
/// with the same <see cref="Pc"/>: the inlined functions innermost first (<see cref="Inlined"/>
/// set), then the function they were inlined into.
/// </summary>
/// <param name="Pc">The run-time code address.</param>
/// <param name="ModulePath">The ELF file the address belongs to, as it was loaded.</param>
/// <param name="ModuleOffset">Pc minus the module's start (its lowest loaded address), as in Dr. Memory's module+offset.</param>
/// <param name="Function">Demangled function name; null when neither DWARF nor a symbol table names one.</param>
/// <param name="File">Source file (absolute when the DWARF's compilation directory is); null without line information.</param>
/// <param name="Line">1-based source line; null when unknown.</param>
/// <param name="Inlined">This frame's function was inlined into the next frame's.</param>
/// <param name="SymbolOffset">Pc minus the start of the symbol-table function holding it (the physical function); null when no symbol covers it or for inlined frames.</param>
/// <param name="Replaced">The pc is in the tool's own replacement of the library routine <see cref="Function"/>
/// (memcheck's strlen): shown as that routine alone, without the tool's file, line or module.</param>
/// <param name="MangledFunction">The name Valgrind knows the frame by, which its suppressions match: for the physical
/// frame the symbol table's name as stored (mangled C++, <c>name@@VERSION</c>), of several at one address the one Valgrind
/// prefers (<see cref="FunctionSymbolTable.ValgrindName"/>); for an inlined frame DWARF's plain DW_AT_name; null without one.</param>
public sealed record SymbolizedFrame(
    ulong Pc,
    string ModulePath,
    ulong ModuleOffset,
    string? Function,
    string? File,
    int? Line,
    bool Inlined,
    ulong? SymbolOffset = null,
    bool Replaced = false,
    string? MangledFunction = null)
{
    /// <summary>The module's file name (libc.so.6).</summary>
    public string ModuleName => System.IO.Path.GetFileName(ModulePath);

    /// <summary>
    /// In Dr. Memory's spirit: <c>main [/abs/path/x.c:7] (x+0x1149)</c> with source, else the
    /// symbol-table fallback <c>malloc+0x12 (libc.so.6+0x98942)</c>, else <c>?? (x+0x1149)</c>;
    /// a replaced routine as <c>strlen (replaced by memcheck)</c>.
    /// </summary>
    public override string ToString()
    {
        if (Replaced) return $"{Function ?? "??"} (replaced by memcheck)";
        var text = new StringBuilder(Function ?? "??");
        if (File != null)
        {
            text.Append(" [").Append(File);
            if (Line is int line) text.Append(':').Append(line.ToString(CultureInfo.InvariantCulture));
            text.Append(']');
        }
        else if (Function != null && SymbolOffset is ulong offset)
        {
            text.Append("+0x").Append(offset.ToString("x", CultureInfo.InvariantCulture));
        }
        text.Append(" (").Append(ModuleName).Append("+0x")
            .Append(ModuleOffset.ToString("x", CultureInfo.InvariantCulture)).Append(')');
        return text.ToString();
    }
}
