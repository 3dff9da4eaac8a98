using System.Runtime.Versioning;

namespace Checker.Engine.Syscalls;

/// <summary>
/// Raw system calls through the generated <c>syscall</c> stub: the kernel's result unchanged
/// (negative errno on failure), with no libc wrapper state (errno, cancellation) in between.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class KernelInterface(ulong rawSyscallStub)
{
    private readonly delegate* unmanaged<long, long, long, long, long, long, long, long> _stub =
        (delegate* unmanaged<long, long, long, long, long, long, long, long>)rawSyscallStub;

    public long Call(long number, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0) =>
        _stub(number, a1, a2, a3, a4, a5, a6);

    public long Call(long number, ulong a1, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0, ulong a6 = 0) =>
        _stub(number, (long)a1, (long)a2, (long)a3, (long)a4, (long)a5, (long)a6);

    public static bool IsError(long result) => result < 0 && result > -4096;
}
