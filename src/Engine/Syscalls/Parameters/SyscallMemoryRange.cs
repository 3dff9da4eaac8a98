namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// One range of guest memory a system call reads or writes. <paramref name="Parameter"/> names it
/// as Valgrind does: "write(buf)", "writev(vector[2])", "sendmsg(msg.msg_iov[0])", "ioctl(TCGETS)".
/// The range may be unaddressable or even run past the user address space (a NULL pointer, a huge
/// length): that is for the tool to report; it never wraps past 2^64.
/// </summary>
public readonly record struct SyscallMemoryRange(string Parameter, ulong Address, ulong Length, KernelAccess Access);
