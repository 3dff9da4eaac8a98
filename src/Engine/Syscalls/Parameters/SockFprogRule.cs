namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// A struct sock_fprog the kernel reads (seccomp's SECCOMP_SET_MODE_FILTER, SO_ATTACH_FILTER):
/// its len (u16) and filter pointer, then len struct sock_filter instructions of 8 bytes there
/// (BPF_MAXINSNS, 4,096, at most: with more the kernel fails before reading them).
/// </summary>
internal sealed class SockFprogRule(int argument) : ParameterRule
{
    private const ulong InstructionSize = 8, MaxInstructions = 4096;

    public override void Before(in SyscallCall call)
    {
        string label = call.Syscall.Arguments[argument];
        ulong program = call.Arg(argument);
        call.Add($"{label}.len", program, 2, KernelAccess.Reads);
        call.Add($"{label}.filter", program + 8, 8, KernelAccess.Reads);
        if (!call.TryReadUInt64(program, out ulong first) || !call.TryReadUInt64(program + 8, out ulong filter)) return;
        ulong length = first & 0xffff;
        if (length == 0 || length > MaxInstructions) return;
        call.Add($"{label}.filter", filter, length * InstructionSize, KernelAccess.Reads);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` (struct sock_fprog: len, filter) and its filter (len instructions of 8 bytes)";
}
