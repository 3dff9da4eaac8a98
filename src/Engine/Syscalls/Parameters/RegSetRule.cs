namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// ptrace's PTRACE_GETREGSET / PTRACE_SETREGSET: <c>data</c> points to one struct iovec, which the
/// kernel reads; the set's bytes go to (or come from) its iov_base, at most iov_len of them. A get
/// writes as many as the register set holds and stores that count back into iov_len (so after the
/// call the iovec says what was written; LeakSanitizer's stop-the-world reads threads' registers so).
/// </summary>
internal sealed class RegSetRule(int argument, ParameterAccess access) : ParameterRule
{
    public override void Before(in SyscallCall call)
    {
        string label = call.Syscall.Arguments[argument];
        ulong vector = call.Arg(argument);
        call.Add(label, vector, IoVecs.ElementSize, KernelAccess.Reads);
        if (!call.TryReadUInt64(vector, out ulong buffer) || !call.TryReadUInt64(vector + 8, out ulong length)) return;
        call.Add($"{label}->iov_base", buffer, length, access, after: false);
        // The count written back (checked with the iovec already).
    }

    public override void After(in SyscallCall call)
    {
        if (call.Result < 0 || access == ParameterAccess.Reads) return;
        string label = call.Syscall.Arguments[argument];
        ulong vector = call.Arg(argument);
        if (!call.TryReadUInt64(vector, out ulong buffer) || !call.TryReadUInt64(vector + 8, out ulong written)) return;
        call.Add($"{label}->iov_len", vector + 8, 8, KernelAccess.Writes);
        call.Add($"{label}->iov_base", buffer, written, KernelAccess.Writes);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` (struct iovec, 16 bytes), {Verb(access)} its iov_base (at most iov_len bytes" +
        (access == ParameterAccess.Reads ? ")" : "; as many as the kernel stores back into iov_len)");
}
