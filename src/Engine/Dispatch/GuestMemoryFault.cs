namespace Checker.Engine.Dispatch;

/// <summary>
/// Thrown by code that acts for the guest (a replaced function) when a guest pointer it must
/// read or write is bad: natively the function itself would fault there, so it is the guest's
/// SIGSEGV at the function, reported as such, never a fault in memcheck.
/// </summary>
public sealed class GuestMemoryFault(ulong address, int size, bool write)
    : Exception($"cannot {(write ? "write" : "read")} {size} byte(s) at 0x{address:x}")
{
    public ulong Address { get; } = address;
    public int Size { get; } = size;
    public bool Write { get; } = write;
}
