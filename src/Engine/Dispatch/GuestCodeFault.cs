namespace Checker.Engine.Dispatch;

/// <summary>
/// Thrown by the translator when the guest's next instruction is not in executable guest memory
/// (a jump to an unmapped address, into a data page, into memcheck's own memory): natively the
/// fetch faults with SIGSEGV at <see cref="Address"/>, the first byte that cannot be executed.
/// </summary>
public sealed class GuestCodeFault(ulong pc, ulong address, bool mapped) : Exception($"cannot execute at 0x{address:x}")
{
    public ulong Pc { get; } = pc;
    public ulong Address { get; } = address;
    /// <summary>Something is mapped there, without execute permission (SEGV_ACCERR rather than SEGV_MAPERR).</summary>
    public bool Mapped { get; } = mapped;
}
