namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// rt_sigaction's new action, the kernel's struct sigaction (32 bytes: handler, flags, restorer,
/// mask). sa_restorer is read only when sa_flags has SA_RESTORER, so a raw syscall that leaves it
/// unset is not reported; the mask is as long as sigsetsize, which must be 8.
/// </summary>
internal sealed class SigActionRule(int argument, int setSizeArgument) : ParameterRule
{
    private const ulong SaRestorer = 0x0400_0000;

    public override void Before(in SyscallCall call)
    {
        ulong action = call.Arg(argument);
        // NULL: no new action; another sigsetsize: EINVAL before anything is read.
        if (action == 0 || call.Arg(setSizeArgument) != 8) return;
        string name = call.Syscall.Arguments[argument];
        call.Add($"{name}->sa_handler", action, 8, KernelAccess.Reads);
        call.Add($"{name}->sa_flags", action + 8, 8, KernelAccess.Reads);
        if (call.TryReadUInt64(action + 8, out ulong flags) && (flags & SaRestorer) != 0)
            call.Add($"{name}->sa_restorer", action + 16, 8, KernelAccess.Reads);
        call.Add($"{name}->sa_mask", action + 24, 8, KernelAccess.Reads);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` (struct sigaction, 32 bytes; sa_restorer only with SA_RESTORER), may be NULL";
}
