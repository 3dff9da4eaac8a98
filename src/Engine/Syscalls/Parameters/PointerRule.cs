namespace Checker.Engine.Syscalls.Parameters;

/// <summary>The length of a pointer parameter, from the arguments (count, sizeof, count * element).</summary>
internal delegate ulong SizeOf(in SyscallCall call);

/// <summary>How much of a written buffer the kernel says it filled.</summary>
internal enum WrittenSize
{
    /// <summary>All of it (a struct stat, a timespec).</summary>
    Whole,

    /// <summary>The result in bytes (read, getdents64, getrandom, readlink).</summary>
    Result,

    /// <summary>The result in elements (epoll_wait's events, getgroups' list).</summary>
    ResultElements,

    /// <summary>All of it, when the result is positive (wait4's status: nothing when WNOHANG found no child).</summary>
    IfResultPositive,
}

/// <summary>
/// A pointer argument to a buffer or structure whose length is known from the arguments: write's
/// buf, read's buf, stat's struct, nanosleep's timespecs, select's fd_sets.
/// </summary>
internal sealed class PointerRule(
    int argument, SizeOf size, string sizeText, ParameterAccess access,
    bool optional = false, WrittenSize written = WrittenSize.Whole, ulong elementSize = 1,
    bool writtenOnEintr = false, string? label = null) : ParameterRule
{
    private const long EINTR = 4;

    public override void Before(in SyscallCall call)
    {
        ulong address = call.Arg(argument);
        if (address == 0 && optional || access == ParameterAccess.Replaces) return;
        call.Add(Label(call.Syscall.Arguments), address, size(call), access, after: false);
    }

    public override void After(in SyscallCall call)
    {
        ulong address = call.Arg(argument);
        if (address == 0 || access == ParameterAccess.Reads) return;
        ulong length = size(call);
        if (writtenOnEintr)
        {
            // nanosleep's rem: the kernel fills it only when the sleep is interrupted.
            if (call.Result == -EINTR) call.Add(Label(call.Syscall.Arguments), address, length, KernelAccess.Writes);
            return;
        }
        if (call.Result < 0 || written == WrittenSize.IfResultPositive && call.Result == 0) return;
        ulong result = (ulong)call.Result;
        length = written switch
        {
            WrittenSize.Result => Math.Min(result, length),
            WrittenSize.ResultElements => Math.Min(result * elementSize, length),
            _ => length,
        };
        call.Add(Label(call.Syscall.Arguments), address, length, KernelAccess.Writes);
    }

    public override string Describe(IReadOnlyList<string> arguments)
    {
        string size = sizeText;
        for (int i = 0; i < arguments.Count; i++) size = size.Replace($"{{{i}}}", $"`{arguments[i]}`");
        string text = $"{Verb(access)} `{Label(arguments)}` ({size})";
        if (optional) text += ", may be NULL";
        if (writtenOnEintr) text += ", written only on EINTR";
        else if (access != ParameterAccess.Reads && written == WrittenSize.Result) text += ", result bytes written";
        else if (access != ParameterAccess.Reads && written == WrittenSize.ResultElements) text += ", result elements written";
        return text;
    }

    private string Label(IReadOnlyList<string> arguments) => label ?? arguments[argument];
}
