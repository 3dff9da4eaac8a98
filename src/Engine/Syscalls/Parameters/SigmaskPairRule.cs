namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// pselect6's sixth argument: a pointer to { const sigset_t *ss; size_t ss_len; } (16 bytes),
/// both read, then the set itself when ss is not NULL.
/// </summary>
internal sealed class SigmaskPairRule(int argument) : ParameterRule
{
    public override void Before(in SyscallCall call)
    {
        ulong pair = call.Arg(argument);
        if (pair == 0) return;
        string name = call.Syscall.Arguments[argument];
        call.Add(name, pair, 16, KernelAccess.Reads);
        if (call.TryReadUInt64(pair, out ulong set) && set != 0 && call.TryReadUInt64(pair + 8, out ulong length))
            call.Add($"{name}.ss", set, length, KernelAccess.Reads);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` ({{sigset pointer, size}}, 16 bytes) and the set it points to, may be NULL";
}
