namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// A System V message buffer (struct msgbuf: a long mtype, then the text): msgsnd reads the type and
/// <paramref name="sizeArgument"/> bytes of text; msgrcv may write as many and writes the type and
/// the result's bytes of text.
/// </summary>
internal sealed class MessageRule(int argument, int sizeArgument, ParameterAccess access) : ParameterRule
{
    private const ulong TypeSize = 8;

    public override void Before(in SyscallCall call) =>
        call.Add(call.Syscall.Arguments[argument], call.Arg(argument), TypeSize + call.Arg(sizeArgument), access, after: false);

    public override void After(in SyscallCall call)
    {
        if (call.Result < 0 || access == ParameterAccess.Reads) return;
        call.Add(call.Syscall.Arguments[argument], call.Arg(argument), TypeSize + (ulong)call.Result, KernelAccess.Writes);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"{Verb(access)} `{arguments[argument]}` (a long mtype, then `{arguments[sizeArgument]}` bytes of text)" +
        (access == ParameterAccess.Reads ? "" : ", the type and result bytes of text written");
}
