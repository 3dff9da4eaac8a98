namespace Checker.Engine.Syscalls.Parameters;

/// <summary>How many argument registers a call uses, when that depends on the arguments (open's mode only with O_CREAT).</summary>
public delegate int ArgumentCount(ReadOnlySpan<ulong> args);

/// <summary>
/// One row of the syscall table: number, name, the arguments by name (so a tool can check that
/// the registers the kernel uses are defined) and the rules saying what memory it reads and writes.
/// </summary>
public sealed class SyscallDescription
{
    internal SyscallDescription(long number, string name, IReadOnlyList<string> arguments, IReadOnlyList<ParameterRule> rules)
    {
        Number = number;
        Name = name;
        Arguments = arguments;
        Rules = rules;
    }

    public long Number { get; }

    public string Name { get; }

    /// <summary>The scalar parameters in register order (rdi, rsi, rdx, r10, r8, r9), named as in the man page.</summary>
    public IReadOnlyList<string> Arguments { get; }

    internal IReadOnlyList<ParameterRule> Rules { get; }

    /// <summary>Set by rows whose later arguments are used only for some values of earlier ones (open, fcntl, futex, prctl).</summary>
    internal ArgumentCount? CountUsed { get; private set; }

    /// <summary>What the docs say about <see cref="CountUsed"/>.</summary>
    internal string? CountUsedText { get; private set; }

    /// <summary>
    /// How many leading arguments this call uses: all of <see cref="Arguments"/>, or fewer when
    /// the others are ignored (open without O_CREAT leaves mode unread, so an unset rdx is no error).
    /// </summary>
    public int ArgumentsUsed(ReadOnlySpan<ulong> args) => CountUsed is null ? Arguments.Count : Math.Min(CountUsed(args), Arguments.Count);

    /// <summary>One line per rule, for docs/syscalls.md.</summary>
    public IEnumerable<string> DescribeMemory() => Rules.Select(r => r.Describe(Arguments));

    // Bit i: argument i is an int or u32 (the kernel reads its register's low 32 bits only).
    private int _thirtyTwoBit;

    /// <summary>
    /// Whether argument <paramref name="index"/> is 32 bits wide (int, unsigned int, u32), so only its
    /// register's low half need be defined: glibc's variadic syscall() loads a seventh C argument, the
    /// call's sixth, from a stack slot the caller filled with a 4-byte store (Chromium's futex val3).
    /// </summary>
    public bool IsThirtyTwoBit(int index) => (_thirtyTwoBit >> index & 1) != 0;

    /// <summary>Marks <paramref name="indexes"/> as 32-bit arguments (<see cref="IsThirtyTwoBit"/>), as Valgrind's PRE_REG_READ types them.</summary>
    internal SyscallDescription ThirtyTwoBit(params int[] indexes)
    {
        foreach (int index in indexes) _thirtyTwoBit |= 1 << index;
        return this;
    }

    internal SyscallDescription Using(ArgumentCount count, string text)
    {
        CountUsed = count;
        CountUsedText = text;
        return this;
    }
}
