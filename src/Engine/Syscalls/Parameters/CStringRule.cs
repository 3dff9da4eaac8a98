namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// A NUL-terminated string the kernel reads (a path, a name): the range runs to the NUL included.
/// A NULL pointer gives a one-byte range at 0 for the tool to report, unless the row says NULL is allowed.
/// </summary>
internal sealed class CStringRule(int argument, bool optional = false, ulong max = CStringRule.MaxLength, string? label = null) : ParameterRule
{
    /// <summary>Longer than any string the kernel accepts (PATH_MAX 4096, MAX_ARG_STRLEN 128 KiB): the scan stops there.</summary>
    public const ulong MaxLength = 1 << 20;

    public override void Before(in SyscallCall call)
    {
        ulong address = call.Arg(argument);
        if (address == 0 && optional) return;
        call.Add(label ?? call.Syscall.Arguments[argument], address, call.StringLength(address, max), KernelAccess.Reads);
    }

    public override string Describe(IReadOnlyList<string> arguments)
    {
        string text = $"reads string `{label ?? arguments[argument]}`";
        if (max != MaxLength) text += $" (at most {max} bytes)";
        return optional ? text + ", may be NULL" : text;
    }
}
