using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Checker.Engine.Native;

/// <summary>
/// Reads and writes of guest memory on the guest's behalf (emulated system calls, replaced
/// functions) that never fault in memcheck: process_vm_readv/writev on our own pid, so a bad guest
/// pointer is a failed copy (EFAULT, as the kernel's copy_from_user gives the program) instead of
/// a SIGSEGV in the runtime, which would take memcheck down with no report. Writes honour the
/// page protection as the kernel's copies do (a read-only page is EFAULT).
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class GuestMemory
{
    // RuntimeRoutines.SafeCopy once the fault handler that recovers its faults is installed (null before:
    // unit tests, and start-up before the engine runs). No GC transition: it never blocks but on a page fault.
    private static delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int> _safeCopy;

    /// <summary>
    /// From here on reads and writes copy directly through <paramref name="safeCopy"/> (a fault in it
    /// returns 0): a copy of a few bytes costs nanoseconds where process_vm_readv cost about a
    /// microsecond (cc1plus's propagation exits read ~460,000 operands: 2.6% of its run).
    /// </summary>
    public static void UseSafeCopy(ulong safeCopy) => _safeCopy = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int>)safeCopy;

    public static bool TryRead(ulong address, Span<byte> destination)
    {
        if (destination.IsEmpty) return true;
        if (address + (ulong)destination.Length < address) return false;
        fixed (byte* buffer = destination)
        {
            if (_safeCopy != null && IsUserRange(address, destination.Length))
                return _safeCopy(buffer, (byte*)address, (nuint)destination.Length) != 0;
            var local = new LibC.IoVec { Base = (nint)buffer, Length = (nuint)destination.Length };
            var remote = new LibC.IoVec { Base = (nint)address, Length = (nuint)destination.Length };
            return LibC.process_vm_readv(CurrentPid(), &local, 1, &remote, 1, 0) == destination.Length;
        }
    }

    public static bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty) return true;
        if (address + (ulong)source.Length < address) return false;
        fixed (byte* buffer = source)
        {
            if (_safeCopy != null && IsUserRange(address, source.Length))
                return _safeCopy((byte*)address, buffer, (nuint)source.Length) != 0;
            var local = new LibC.IoVec { Base = (nint)buffer, Length = (nuint)source.Length };
            var remote = new LibC.IoVec { Base = (nint)address, Length = (nuint)source.Length };
            return LibC.process_vm_writev(CurrentPid(), &local, 1, &remote, 1, 0) == source.Length;
        }
    }

    public static bool TryReadUInt64(ulong address, out ulong value)
    {
        ulong v = 0;
        bool ok = TryRead(address, new Span<byte>(&v, 8));
        value = v;
        return ok;
    }

    public static bool TryWriteUInt64(ulong address, ulong value) => TryWrite(address, new ReadOnlySpan<byte>(&value, 8));

    /// <summary>A NUL-terminated string of at most <paramref name="max"/> bytes (PATH_MAX for paths), or null when unreadable.</summary>
    public static string? TryReadCString(ulong address, int max = 4096) =>
        TryReadCStringBytes(address, max) is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    /// <summary>The bytes of a NUL-terminated string (without the NUL); null when unreadable or not ended within about <paramref name="max"/> bytes.</summary>
    public static byte[]? TryReadCStringBytes(ulong address, int max)
    {
        var bytes = new List<byte>();
        Span<byte> chunk = stackalloc byte[256];
        while (bytes.Count < max)
        {
            // Byte by byte at a page's end, so a string that ends just before an unmapped page is read.
            int length = (int)Math.Min((ulong)chunk.Length, 4096 - (address & 4095));
            if (!TryRead(address, chunk[..length])) return null;
            int end = chunk[..length].IndexOf((byte)0);
            if (end >= 0)
            {
                bytes.AddRange(chunk[..end].ToArray());
                return bytes.ToArray();
            }
            bytes.AddRange(chunk[..length].ToArray());
            address += (ulong)length;
        }
        return null;
    }

    // Within the 47-bit user space; anything else is left to the system call's EFAULT.
    private static bool IsUserRange(ulong address, int length) => address + (ulong)length <= 0x7fff_ffff_f000UL;

    // getpid() of a forked child differs from the parent's: never cache it across a fork.
    private static int CurrentPid() => LibC.getpid();
}
