namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// A NULL-terminated array of string pointers (execve's argv and envp): the array up to its NULL
/// as "execve(argv)", then each string as "execve(argv[i])". A NULL array is allowed (Linux takes
/// it as empty); an unreadable slot ends the walk with that slot in the range.
/// </summary>
internal sealed class StringArrayRule(int argument) : ParameterRule
{
    /// <summary>More entries than fit in ARG_MAX with the default stack limit; the walk stops there.</summary>
    private const int MaxEntries = 1 << 20;

    public override void Before(in SyscallCall call)
    {
        ulong array = call.Arg(argument);
        if (array == 0) return;
        string name = call.Syscall.Arguments[argument];
        var strings = new List<ulong>();
        ulong slots = 0;
        while (slots < MaxEntries)
        {
            bool readable = call.TryReadUInt64(array + slots * 8, out ulong pointer);
            slots++;
            if (!readable || pointer == 0) break;
            strings.Add(pointer);
        }
        call.Add(name, array, slots * 8, KernelAccess.Reads);
        for (int i = 0; i < strings.Count; i++)
            call.Add($"{name}[{i}]", strings[i], call.StringLength(strings[i], CStringRule.MaxLength), KernelAccess.Reads);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` (NULL-terminated pointer array, may be NULL) and each string";
}
