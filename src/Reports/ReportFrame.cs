using System.Globalization;
using System.Text;

namespace Checker.Reports;

/// <summary>
/// One frame of a report's callstack, innermost first. Built by the caller from a symbolized frame
/// (Checker.Symbols' SymbolizedFrame has the same fields), so Reports does not depend on libdw. An
/// address inside inlined code gives several frames with the same <see cref="Pc"/>.
/// </summary>
/// <param name="Pc">The run-time code address.</param>
/// <param name="ModulePath">The ELF file holding the pc, as loaded; null when no module covers it.</param>
/// <param name="ModuleOffset">Pc minus the module's lowest loaded address (Dr. Memory's module+offset); meaningful only with a module.</param>
/// <param name="Function">Demangled function name; null when unknown.</param>
/// <param name="File">Source file; null without line information.</param>
/// <param name="Line">1-based source line; null when unknown.</param>
/// <param name="Inlined">This frame's function was inlined into the next frame's.</param>
/// <param name="SymbolOffset">Pc minus the start of the symbol-table function holding it; shown when there is no source line.</param>
/// <param name="Replaced">The pc is in the tool's replacement of the library routine <see cref="Function"/>
/// (memcheck's strlen): shown as <c>strlen (replaced by memcheck)</c>, with no file, line or module of the tool's.</param>
/// <param name="MangledFunction">The name Valgrind's suppressions match (<c>fun:</c>) and its generated ones write: for
/// the physical frame the symbol table's name, mangled (<c>_ZN6shapes6Widget6resizeEm</c>), of aliases the one Valgrind
/// prefers (<c>write</c>, not <c>__libc_write</c>); for an inlined frame DWARF's plain name; null without either.</param>
public sealed record ReportFrame(
    ulong Pc,
    string? ModulePath = null,
    ulong ModuleOffset = 0,
    string? Function = null,
    string? File = null,
    int? Line = null,
    bool Inlined = false,
    ulong? SymbolOffset = null,
    bool Replaced = false,
    string? MangledFunction = null)
{
    /// <summary>
    /// <c>main [/abs/x.c:7] (x+0x1149)</c>, or <c>malloc+0x12 (libc.so.6+0x98942)</c> without a
    /// source line, <c>?? (x+0x1149)</c> without a name, <c>?? (0x7f0012345678)</c> outside any module,
    /// <c>strlen (replaced by memcheck)</c> in a replaced routine.
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
        text.Append(" (");
        if (ModulePath != null)
        {
            text.Append(Path.GetFileName(ModulePath)).Append("+0x")
                .Append(ModuleOffset.ToString("x", CultureInfo.InvariantCulture));
        }
        else
        {
            text.Append("0x").Append(Pc.ToString("x", CultureInfo.InvariantCulture));
        }
        return text.Append(')').ToString();
    }
}
