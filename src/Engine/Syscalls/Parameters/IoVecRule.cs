namespace Checker.Engine.Syscalls.Parameters;

/// <summary>An iovec array argument with its count argument (readv, writev, preadv, pwritev...).</summary>
internal sealed class IoVecRule(int argument, int countArgument, ParameterAccess access) : ParameterRule
{
    public override void Before(in SyscallCall call) =>
        IoVecs.Before(call, call.Syscall.Arguments[argument], call.Arg(argument), call.Arg(countArgument), access);

    public override void After(in SyscallCall call)
    {
        if (call.Result <= 0 || access == ParameterAccess.Reads) return;
        IoVecs.After(call, call.Syscall.Arguments[argument], call.Arg(argument), call.Arg(countArgument), (ulong)call.Result);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` ({arguments[countArgument]} iovecs of 16 bytes), {Verb(access)} each element's buffer" +
        (access == ParameterAccess.Reads ? "" : ", result bytes written in order");
}
