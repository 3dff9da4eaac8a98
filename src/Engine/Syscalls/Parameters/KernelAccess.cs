namespace Checker.Engine.Syscalls.Parameters;

/// <summary>What the kernel does with one range of guest memory during a system call.</summary>
public enum KernelAccess
{
    /// <summary>The kernel reads it: before the call it must be addressable and defined.</summary>
    Reads,

    /// <summary>
    /// The kernel writes it: before the call it must be addressable; after the call the bytes the
    /// result says were written (the ranges <see cref="SyscallTable.After(long, ReadOnlySpan{ulong}, long, IGuestMemoryReader, List{SyscallMemoryRange})"/> gives) are defined.
    /// </summary>
    Writes,
}
