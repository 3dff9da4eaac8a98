namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// A socket address the kernel reads (connect, bind, sendto), addrlen bytes. As Valgrind does,
/// only the fields the family uses are read: sa_family, then for AF_INET the port and address
/// (not sin_zero), for AF_INET6 port, flowinfo, address and scope id, for AF_UNIX the path up to
/// its NUL (an abstract name, starting with NUL, as long as addrlen); other families all of addrlen.
/// </summary>
internal sealed class SockAddrRule(int argument, int lengthArgument, bool optional) : ParameterRule
{
    private const ushort Unix = 1, Inet = 2, Inet6 = 10;

    public override void Before(in SyscallCall call)
    {
        ulong address = call.Arg(argument), length = call.Arg(lengthArgument);
        if (address == 0 && optional || length == 0) return;
        string name = call.Syscall.Arguments[argument];
        Span<byte> family = stackalloc byte[2];
        if (length < 2 || !call.Memory.TryRead(address, family))
        {
            call.Add(name, address, length, KernelAccess.Reads);
            return;
        }
        call.Add($"{name}.sa_family", address, 2, KernelAccess.Reads);
        switch (BitConverter.ToUInt16(family))
        {
            case Inet:
                call.Add($"{name}.sin_port", address + 2, Math.Min(2, length - 2), KernelAccess.Reads);
                if (length > 4) call.Add($"{name}.sin_addr", address + 4, Math.Min(4, length - 4), KernelAccess.Reads);
                break;
            case Inet6:
                // sin6_port, sin6_flowinfo, sin6_addr, sin6_scope_id: 26 bytes with no padding.
                call.Add($"{name}.sin6", address + 2, Math.Min(26, length - 2), KernelAccess.Reads);
                break;
            case Unix:
                Span<byte> first = stackalloc byte[1];
                bool isAbstract = length > 2 && call.Memory.TryRead(address + 2, first) && first[0] == 0;
                ulong path = isAbstract ? length - 2 : Math.Min(call.StringLength(address + 2, length - 2), length - 2);
                call.Add($"{name}.sun_path", address + 2, path, KernelAccess.Reads);
                break;
            default:
                call.Add(name, address + 2, length - 2, KernelAccess.Reads);
                break;
        }
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` ({{{lengthArgument}}} bytes; the fields its family uses)".Replace($"{{{lengthArgument}}}", $"`{arguments[lengthArgument]}`") +
        (optional ? ", may be NULL" : "");
}
