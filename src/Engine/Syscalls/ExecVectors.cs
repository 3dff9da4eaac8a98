using System.Runtime.Versioning;
using System.Text;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// Reads an exec's argv and envp out of guest memory for memcheck to pass on: NULL-terminated
/// arrays of C strings. Strings must be UTF-8 (memcheck's own command line and environment are
/// read as .NET strings, which would not keep other bytes); otherwise the exec is not followed.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ExecVectors
{
    /// <summary>The kernel's limit on one argument or environment string (MAX_ARG_STRLEN).</summary>
    private const int MaxStringBytes = 32 * 4096;
    /// <summary>No more than this in all: beyond it the kernel's E2BIG is likely anyway, and native exec tells.</summary>
    private const long MaxTotalBytes = 64L << 20;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The strings of the vector at <paramref name="address"/> (0: none), or why they cannot be passed on.</summary>
    public static (List<string>? Strings, string? Problem) Read(ulong address, string what)
    {
        var strings = new List<string>();
        if (address == 0) return (strings, null);
        long total = 0;
        for (ulong slot = address; ; slot += 8)
        {
            if (!GuestMemory.TryReadUInt64(slot, out ulong pointer)) return (null, $"its {what} cannot be read");
            if (pointer == 0) return (strings, null);
            byte[]? bytes = GuestMemory.TryReadCStringBytes(pointer, MaxStringBytes);
            if (bytes == null) return (null, $"its {what} cannot be read");
            total += bytes.Length + 1 + 8;
            if (total > MaxTotalBytes) return (null, $"its {what} is too large");
            try { strings.Add(StrictUtf8.GetString(bytes)); }
            catch (DecoderFallbackException) { return (null, $"its {what} is not UTF-8 text"); }
        }
    }
}
