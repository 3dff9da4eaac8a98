using System.Runtime.InteropServices;
using Checker.Symbols.Native;

namespace Checker.Symbols.Demangling;

/// <summary>C++ (Itanium ABI) names made readable through libstdc++'s <c>__cxa_demangle</c>.</summary>
public static class Demangler
{
    /// <summary>
    /// The demangled form of <paramref name="mangled"/> (<c>_ZN2ns6Widget6resizeEm</c> becomes
    /// <c>ns::Widget::resize(unsigned long)</c>); the input unchanged when it is not a mangled
    /// name. Only names starting with <c>_Z</c> are tried: <c>__cxa_demangle</c> also decodes
    /// bare type encodings, and a C function called <c>f</c> must not come back as <c>float</c>.
    /// </summary>
    public static unsafe string Demangle(string mangled)
    {
        ArgumentNullException.ThrowIfNull(mangled);
        if (!IsMangled(mangled)) return mangled;

        int status;
        byte* demangled = LibStdCxx.CxaDemangle(mangled, null, null, &status);
        if (demangled == null) return mangled;
        try
        {
            return status == 0 ? Marshal.PtrToStringUTF8((nint)demangled) ?? mangled : mangled;
        }
        finally
        {
            NativeMemory.Free(demangled);
        }
    }

    /// <summary>True for an Itanium C++ ABI symbol name (<c>_Z...</c>).</summary>
    public static bool IsMangled(string name) =>
        name.Length > 2 && name.StartsWith("_Z", StringComparison.Ordinal) && !name.Contains('\0');
}
