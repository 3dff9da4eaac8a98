using System.Text;

namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// What each Linux x86-64 system call reads and writes in guest memory, as data (one row per
/// syscall, built in the SyscallRows.* files from the rules in <see cref="Rules"/>), and the
/// interpretation of one call's arguments into concrete ranges. It knows nothing of shadow memory
/// or checking: a tool checks the ranges before the call (Reads: addressable and defined; Writes:
/// addressable) and marks what <see cref="After(long, ReadOnlySpan{ulong}, long, IGuestMemoryReader, IReadOnlyList{SyscallMemoryRange}, List{SyscallMemoryRange})"/>
/// gives as defined.
/// </summary>
public static class SyscallTable
{
    private static readonly Dictionary<long, SyscallDescription> ByNumber = SyscallRows.All().ToDictionary(d => d.Number);

    /// <summary>Every row, by number.</summary>
    public static IEnumerable<SyscallDescription> All => ByNumber.Values.OrderBy(d => d.Number);

    /// <summary>The row for <paramref name="number"/>, or null for a number the table does not describe.</summary>
    public static SyscallDescription? Find(long number) => ByNumber.GetValueOrDefault(number);

    /// <summary>
    /// Every range the kernel will read or write, in argument order. A NULL or unreadable pointer
    /// to a structure the kernel reads (an iovec array, a msghdr) gives that range, and none
    /// derived from its contents. Unknown numbers give nothing. <paramref name="args"/>: the six
    /// argument registers as at entry.
    /// </summary>
    public static void Before(long number, ReadOnlySpan<ulong> args, IGuestMemoryReader memory, List<SyscallMemoryRange> into)
    {
        if (Find(number) is not { } syscall) return;
        var call = new SyscallCall(syscall, args, memory, 0, into);
        foreach (var rule in syscall.Rules) rule.Before(call);
    }

    /// <summary>
    /// What the kernel wrote (all Writes), sized by the result where the kernel says so (read()
    /// -> result bytes). Call it with any result: a failed call (result &lt; 0, -errno) gives nothing
    /// except what the kernel writes on that failure (nanosleep's rem on EINTR). <paramref name="args"/>:
    /// the argument registers as at entry, not the result register.
    /// A length the kernel writes back may exceed the buffer (accept's addrlen for a truncated
    /// address): the overload taking the ranges given before the call clips to them.
    /// </summary>
    public static void After(long number, ReadOnlySpan<ulong> args, long result, IGuestMemoryReader memory, List<SyscallMemoryRange> into)
    {
        if (Find(number) is not { } syscall) return;
        var call = new SyscallCall(syscall, args, memory, result, into);
        foreach (var rule in syscall.Rules) rule.After(call);
    }

    /// <summary>
    /// As the other overload, each written range clipped to the Writes range of the same parameter
    /// and address that <see cref="Before"/> gave for this call (<paramref name="before"/>), so no
    /// byte outside a buffer the program passed is ever called written.
    /// </summary>
    public static void After(long number, ReadOnlySpan<ulong> args, long result, IGuestMemoryReader memory,
        IReadOnlyList<SyscallMemoryRange> before, List<SyscallMemoryRange> into)
    {
        int first = into.Count;
        After(number, args, result, memory, into);
        for (int i = first; i < into.Count; i++)
        {
            var written = into[i];
            foreach (var given in before)
            {
                if (given.Access == KernelAccess.Writes && given.Address == written.Address && given.Parameter == written.Parameter)
                {
                    if (given.Length < written.Length) into[i] = written with { Length = given.Length };
                    break;
                }
            }
        }
    }

    /// <summary>docs/syscalls.md: every row and the ioctl requests, generated from the table.</summary>
    public static string MarkdownTable()
    {
        var text = new StringBuilder();
        text.Append("# System call parameters\n\n");
        text.Append("Generated from `src/Engine/Syscalls/Parameters` (the rows are in `SyscallRows.*.cs`); a test\n");
        text.Append("keeps this file in step: run the tests with CHECKER_REGENERATE_DOCS=1 to rewrite it.\n\n");
        text.Append("What each system call reads and writes in the program's memory. Before the call a tool checks\n");
        text.Append("that what the kernel reads is addressable and defined and that what it writes is addressable;\n");
        text.Append("after it, what the kernel wrote (sized by the result where the kernel says so) is defined.\n");
        text.Append("Calls not listed are not described (a tool checks nothing for them). An argument marked\n");
        text.Append("(32-bit) is an int or u32 the kernel takes from its register's low half: only that half must be defined.\n\n");
        text.Append("| # | name | arguments | memory |\n| --- | --- | --- | --- |\n");
        foreach (var syscall in All)
        {
            string arguments = syscall.Arguments.Count == 0 ? "none"
                : string.Join(", ", syscall.Arguments.Select((name, i) => syscall.IsThirtyTwoBit(i) ? name + " (32-bit)" : name));
            if (syscall.CountUsedText is { } used) arguments += $" ({used})";
            string memory = string.Join("; ", syscall.DescribeMemory());
            text.Append($"| {syscall.Number} | {syscall.Name} | {arguments} | {(memory.Length == 0 ? "none" : memory)} |\n");
        }
        text.Append("\n## ioctl requests\n\n");
        text.Append("Requests not listed: the _IOC bits of the request (direction 1: the kernel reads `arg`, 2: it\n");
        text.Append("writes it, 3: both; bits 16-29 the size), reported as `ioctl(generic)`; no direction or size 0: no memory.\n\n");
        text.Append("| request | name | `arg` |\n| --- | --- | --- |\n");
        foreach (var request in IoctlRequests.All)
        {
            string memory = request.Size == 0 ? "no memory" : $"{request.Access switch
            {
                ParameterAccess.Reads => "reads",
                ParameterAccess.Writes => "writes",
                ParameterAccess.Replaces => "replaces",
                _ => "reads and writes",
            }} {request.Size} bytes";
            text.Append($"| 0x{request.Request:X} | {request.Name} | {memory} |\n");
        }
        return text.ToString();
    }
}
