namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// sendmmsg's and recvmmsg's array of struct mmsghdr (a msghdr and its msg_len at 56; 64 bytes):
/// each entry as a msghdr labelled "msgvec[i]"; after the call, the result says how many entries
/// were done, and each one's msg_len how many bytes.
/// </summary>
internal sealed class MmsgHdrRule(int argument, int countArgument, ParameterAccess access) : ParameterRule
{
    private const ulong EntrySize = 64, LengthOffset = 56;

    public override void Before(in SyscallCall call)
    {
        ulong vector = call.Arg(argument);
        // The kernel caps vlen at UIO_MAXIOV.
        ulong count = Math.Min(call.Arg(countArgument), IoVecs.MaxCount);
        string name = call.Syscall.Arguments[argument];
        for (ulong i = 0; i < count; i++)
        {
            MsgHdrs.Before(call, $"{name}[{i}]", vector + i * EntrySize, access);
            call.Add($"{name}[{i}].msg_len", vector + i * EntrySize + LengthOffset, 4, KernelAccess.Writes);
        }
    }

    public override void After(in SyscallCall call)
    {
        if (call.Result <= 0) return;
        ulong vector = call.Arg(argument);
        ulong count = Math.Min((ulong)call.Result, Math.Min(call.Arg(countArgument), IoVecs.MaxCount));
        string name = call.Syscall.Arguments[argument];
        for (ulong i = 0; i < count; i++)
        {
            ulong entry = vector + i * EntrySize;
            call.Add($"{name}[{i}].msg_len", entry + LengthOffset, 4, KernelAccess.Writes);
            if (access != ParameterAccess.Reads && call.TryReadUInt32(entry + LengthOffset, out uint bytes))
                MsgHdrs.AfterReceive(call, $"{name}[{i}]", entry, bytes);
        }
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"for each of `{arguments[countArgument]}` entries of `{arguments[argument]}` (struct mmsghdr, 64 bytes): as sendmsg/recvmsg's msghdr, " +
        (access == ParameterAccess.Reads ? "reading" : "writing") + " the buffers; writes msg_len of the entries the result counts";
}
