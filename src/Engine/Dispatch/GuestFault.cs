namespace Checker.Engine.Dispatch;

/// <summary>What a faulting memory access did: the kind of access, its address and size.</summary>
public enum FaultAccessKind { Read, Write, Execute }

public readonly record struct FaultAccess(FaultAccessKind Kind, ulong Address, int Size);

/// <summary>
/// A synchronous signal of the guest, as the kernel would have delivered it natively, in
/// application terms: the application pc (never a code-cache address), the guest's registers at
/// that instruction (registers the engine held in the context block put back), si_code and
/// si_addr, and for SIGSEGV/SIGBUS the memory access that faulted.
/// </summary>
/// <param name="Registers">The 16 general registers in hardware order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15).</param>
/// <param name="Access">The access that faulted (null: not an access, e.g. ud2 or a division by zero).</param>
/// <param name="Instruction">The instruction as text with its bytes and module, for the death note.</param>
public sealed record GuestFault(int Signal, int Code, ulong Pc, ulong Address, ulong[] Registers, FaultAccess? Access, string Instruction)
{
    public const int SegvMapErr = 1, SegvAccErr = 2, SegvPkuErr = 4;

    public ulong Rsp => Registers[4];
    public ulong Rbp => Registers[5];
}
