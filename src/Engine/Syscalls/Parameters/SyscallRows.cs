namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// The table's rows, by family (SyscallRows.Files.cs, .Sockets.cs, .Time.cs, .Process.cs, .Ipc.cs,
/// .Signals.cs). Arguments are named as in the kernel's SYSCALL_DEFINE; rule arguments are indexes
/// into them. Calls with no memory parameters are listed too, for their argument registers.
/// </summary>
internal static partial class SyscallRows
{
    public static IEnumerable<SyscallDescription> All() => Files().Concat(Sockets()).Concat(Time()).Concat(Process()).Concat(Signals()).Concat(Ipc());
}
