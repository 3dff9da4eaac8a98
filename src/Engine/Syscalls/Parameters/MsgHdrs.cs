namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// Walks a struct msghdr (56 bytes: msg_name 0, msg_namelen 8, msg_iov 16, msg_iovlen 24,
/// msg_control 32, msg_controllen 40, msg_flags 48) as sendmsg/recvmsg do. The fields are read
/// without the padding after msg_namelen, which programs commonly leave unset; sendmsg ignores
/// msg_flags. Labels are "prefix", "prefix.msg_name", "prefix.msg_iov[i]", "prefix.msg_control".
/// </summary>
internal static class MsgHdrs
{
    public const ulong Size = 56;

    public static void Before(in SyscallCall call, string prefix, ulong header, ParameterAccess access)
    {
        bool receive = access != ParameterAccess.Reads;
        call.Add(prefix, header, 12, KernelAccess.Reads);
        call.Add(prefix, header + 16, 32, KernelAccess.Reads);
        if (receive) call.Add($"{prefix}.msg_flags", header + 48, 4, KernelAccess.Writes);
        if (!TryRead(call, header, out Fields f)) return;
        ParameterAccess contents = receive ? ParameterAccess.Writes : ParameterAccess.Reads;
        if (f.Name != 0) call.Add($"{prefix}.msg_name", f.Name, f.NameLength, contents, after: false);
        IoVecs.Before(call, $"{prefix}.msg_iov", f.Iov, f.IovLength, contents);
        if (f.Control != 0) call.Add($"{prefix}.msg_control", f.Control, f.ControlLength, contents, after: false);
    }

    /// <summary>What recvmsg wrote: the lengths and flags, the address and control data as long as the kernel says, <paramref name="bytes"/> of data.</summary>
    public static void AfterReceive(in SyscallCall call, string prefix, ulong header, ulong bytes)
    {
        call.Add($"{prefix}.msg_namelen", header + 8, 4, KernelAccess.Writes);
        call.Add($"{prefix}.msg_controllen", header + 40, 8, KernelAccess.Writes);
        call.Add($"{prefix}.msg_flags", header + 48, 4, KernelAccess.Writes);
        if (!TryRead(call, header, out Fields f)) return;
        if (f.Name != 0) call.Add($"{prefix}.msg_name", f.Name, f.NameLength, KernelAccess.Writes);
        IoVecs.After(call, $"{prefix}.msg_iov", f.Iov, f.IovLength, bytes);
        if (f.Control != 0) call.Add($"{prefix}.msg_control", f.Control, f.ControlLength, KernelAccess.Writes);
    }

    private readonly record struct Fields(ulong Name, uint NameLength, ulong Iov, ulong IovLength, ulong Control, ulong ControlLength);

    private static bool TryRead(in SyscallCall call, ulong header, out Fields fields)
    {
        Span<byte> raw = stackalloc byte[48];
        if (!call.Memory.TryRead(header, raw))
        {
            fields = default;
            return false;
        }
        fields = new Fields(
            BitConverter.ToUInt64(raw), BitConverter.ToUInt32(raw[8..]),
            BitConverter.ToUInt64(raw[16..]), BitConverter.ToUInt64(raw[24..]),
            BitConverter.ToUInt64(raw[32..]), BitConverter.ToUInt64(raw[40..]));
        return true;
    }
}
