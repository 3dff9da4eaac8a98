using System.Runtime.InteropServices;

namespace Checker.Symbols.Native;

/// <summary>The C++ ABI's demangler in libstdc++ (libstdc++.so.6, the one g++ programs use).</summary>
internal static unsafe partial class LibStdCxx
{
    private const string Library = "libstdc++.so.6";

    /// <summary>
    /// char *__cxa_demangle (const char *mangled_name, char *output_buffer, size_t *length, int *status):
    /// with a null buffer it returns a malloc'd string (free it with libc free, which is what
    /// <see cref="NativeMemory.Free"/> calls on Linux). status: 0 success, -1 out of memory,
    /// -2 not a valid mangled name, -3 bad argument.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "__cxa_demangle", StringMarshalling = StringMarshalling.Utf8)]
    public static partial byte* CxaDemangle(string mangledName, byte* outputBuffer, nuint* length, int* status);
}
