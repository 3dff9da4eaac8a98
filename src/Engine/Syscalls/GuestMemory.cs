using System.Runtime.Versioning;
using System.Text;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// Reads what the guest passed to a system call by pointer without ever faulting: a bad pointer is
/// the kernel's EFAULT for the call, never a crash of memcheck. Reads go through process_vm_readv
/// on our own pid (asked each time: a forked child has its own).
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe class GuestMemory
{
    private const ulong PageSize = 4096;

    /// <summary>Copies <paramref name="length"/> bytes from the guest's <paramref name="address"/>; false unless all were readable.</summary>
    public static bool TryRead(KernelInterface kernel, ulong address, void* destination, int length)
    {
        ulong* local = stackalloc ulong[2] { (ulong)destination, (ulong)length };
        ulong* remote = stackalloc ulong[2] { address, (ulong)length };
        return kernel.Call(SyscallNumbers.ProcessVmReadv, LibC.getpid(), (long)local, 1, (long)remote, 1, 0) == length;
    }

    /// <summary>
    /// The NUL-terminated string at <paramref name="address"/> if it ends within <paramref name="maxBytes"/>
    /// bytes; null when it is longer or not readable (the caller then leaves the call to the kernel).
    /// </summary>
    public static string? TryReadString(KernelInterface kernel, ulong address, int maxBytes)
    {
        if (address == 0) return null;
        byte* buffer = stackalloc byte[maxBytes];
        int have = 0;
        while (have < maxBytes)
        {
            // Never across a page boundary in one read: the next page may be unmapped while the string ended before it.
            ulong at = address + (ulong)have;
            int chunk = (int)Math.Min((ulong)(maxBytes - have), PageSize - at % PageSize);
            if (!TryRead(kernel, at, buffer + have, chunk)) return null;
            int nul = new ReadOnlySpan<byte>(buffer + have, chunk).IndexOf((byte)0);
            if (nul >= 0) return Encoding.UTF8.GetString(buffer, have + nul);
            have += chunk;
        }
        return null;
    }
}
