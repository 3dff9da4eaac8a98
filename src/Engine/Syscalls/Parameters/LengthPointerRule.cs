namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// A buffer whose capacity is passed through a socklen_t pointer that the kernel reads and then
/// overwrites with the length it has (accept's addr/addrlen, getsockname, getsockopt's optval/optlen).
/// The length after the call may exceed the buffer (a truncated address): use the After overload
/// that clips to the ranges given before the call.
/// </summary>
internal sealed class LengthPointerRule(int bufferArgument, int lengthPointerArgument, bool bufferOptional) : ParameterRule
{
    public override void Before(in SyscallCall call)
    {
        ulong buffer = call.Arg(bufferArgument), lengthPointer = call.Arg(lengthPointerArgument);
        // accept(fd, NULL, ...) and the like: the kernel ignores the length pointer too.
        if (buffer == 0 && bufferOptional) return;
        call.Add(LengthLabel(call.Syscall.Arguments), lengthPointer, 4, KernelAccess.Reads);
        if (!call.TryReadUInt32(lengthPointer, out uint capacity) || (int)capacity <= 0) return;
        call.Add(call.Syscall.Arguments[bufferArgument], buffer, capacity, KernelAccess.Writes);
    }

    public override void After(in SyscallCall call)
    {
        ulong buffer = call.Arg(bufferArgument), lengthPointer = call.Arg(lengthPointerArgument);
        if (call.Result < 0 || buffer == 0 && bufferOptional) return;
        call.Add(LengthLabel(call.Syscall.Arguments), lengthPointer, 4, KernelAccess.Writes);
        if (buffer == 0 || !call.TryReadUInt32(lengthPointer, out uint length) || (int)length <= 0) return;
        call.Add(call.Syscall.Arguments[bufferArgument], buffer, length, KernelAccess.Writes);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads and writes `{LengthLabel(arguments)}` (4 bytes), writes `{arguments[bufferArgument]}` (*{arguments[lengthPointerArgument]} bytes)" +
        (bufferOptional ? $", neither when `{arguments[bufferArgument]}` is NULL" : "");

    private string LengthLabel(IReadOnlyList<string> arguments) => arguments[lengthPointerArgument];
}
