using static Checker.Engine.Syscalls.Parameters.KernelStructs;
using static Checker.Engine.Syscalls.Parameters.Rules;

namespace Checker.Engine.Syscalls.Parameters;

internal static partial class SyscallRows
{
    private static IEnumerable<SyscallDescription> Sockets() =>
    [
        Row(41, "socket", "family, type, protocol"),
        Row(42, "connect", "fd, uservaddr, addrlen", SockAddr(1, 2)),
        Row(43, "accept", "fd, upeer_sockaddr, upeer_addrlen", SockAddrOut(1, 2)),
        // sendto's address is used only when given (a connected socket passes NULL).
        Row(44, "sendto", "fd, buff, len, flags, addr, addr_len", IoBuffer(1, 2, Reads), SockAddr(4, 5, optional: true)).ThirtyTwoBit(5),
        Row(45, "recvfrom", "fd, ubuf, size, flags, addr, addr_len", IoBuffer(1, 2, Writes), SockAddrOut(4, 5)),
        Row(46, "sendmsg", "fd, msg, flags", MsgHdr(1, Reads)),
        Row(47, "recvmsg", "fd, msg, flags", MsgHdr(1, Writes)),
        Row(48, "shutdown", "fd, how"),
        Row(49, "bind", "fd, umyaddr, addrlen", SockAddr(1, 2)),
        Row(50, "listen", "fd, backlog"),
        Row(51, "getsockname", "fd, usockaddr, usockaddr_len", LengthPointer(1, 2)),
        Row(52, "getpeername", "fd, usockaddr, usockaddr_len", LengthPointer(1, 2)),
        Row(53, "socketpair", "family, type, protocol, usockvec", Value(3, 8, Writes)),
        Row(54, "setsockopt", "fd, level, optname, optval, optlen", Buffer(3, 4, Reads)),
        Row(55, "getsockopt", "fd, level, optname, optval, optlen", LengthPointer(3, 4)),
        Row(288, "accept4", "fd, upeer_sockaddr, upeer_addrlen, flags", SockAddrOut(1, 2)),
        Row(299, "recvmmsg", "fd, mmsg, vlen, flags, timeout", MmsgHdrs(1, 2, Writes), Fixed(4, Timespec, ReadsThenWrites, optional: true)),
        Row(307, "sendmmsg", "fd, mmsg, vlen, flags", MmsgHdrs(1, 2, Reads)),
    ];
}
