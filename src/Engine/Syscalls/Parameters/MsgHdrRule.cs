namespace Checker.Engine.Syscalls.Parameters;

/// <summary>sendmsg's (Reads) or recvmsg's (Writes) struct msghdr argument.</summary>
internal sealed class MsgHdrRule(int argument, ParameterAccess access) : ParameterRule
{
    public override void Before(in SyscallCall call) =>
        MsgHdrs.Before(call, call.Syscall.Arguments[argument], call.Arg(argument), access);

    public override void After(in SyscallCall call)
    {
        if (call.Result < 0 || access == ParameterAccess.Reads) return;
        MsgHdrs.AfterReceive(call, call.Syscall.Arguments[argument], call.Arg(argument), (ulong)call.Result);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` (struct msghdr, 56 bytes) and its msg_iov array; {Verb(access)} msg_name, each msg_iov buffer and msg_control" +
        (access == ParameterAccess.Reads ? "" : "; writes msg_namelen, msg_controllen, msg_flags; result bytes written in order");
}
