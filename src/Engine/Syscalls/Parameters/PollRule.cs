namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// poll/ppoll's struct pollfd array (8 bytes: fd, events, revents): fd and events are read,
/// revents only written, so a program that leaves revents unset is not reported.
/// </summary>
internal sealed class PollRule(int argument, int countArgument) : ParameterRule
{
    /// <summary>Beyond RLIMIT_NOFILE's usual hard limit the kernel fails with EINVAL; the walk stops there anyway.</summary>
    private const ulong MaxCount = 1 << 20;

    public override void Before(in SyscallCall call)
    {
        ulong fds = call.Arg(argument), count = Math.Min(call.Arg(countArgument), MaxCount);
        string name = call.Syscall.Arguments[argument];
        for (ulong i = 0; i < count; i++)
        {
            call.Add($"{name}[{i}]", fds + i * 8, 6, KernelAccess.Reads);
            call.Add($"{name}[{i}].revents", fds + i * 8 + 6, 2, KernelAccess.Writes);
        }
    }

    public override void After(in SyscallCall call)
    {
        if (call.Result < 0) return;
        ulong fds = call.Arg(argument), count = Math.Min(call.Arg(countArgument), MaxCount);
        string name = call.Syscall.Arguments[argument];
        // The kernel copies revents back for every entry, not only the ready ones.
        for (ulong i = 0; i < count; i++)
            call.Add($"{name}[{i}].revents", fds + i * 8 + 6, 2, KernelAccess.Writes);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads fd and events of each of `{arguments[countArgument]}` pollfds at `{arguments[argument]}`, writes their revents";
}
