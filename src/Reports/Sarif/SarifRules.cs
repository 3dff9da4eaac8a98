namespace Checker.Reports.Sarif;

/// <summary>
/// The SARIF rule (reportingDescriptor) of one error kind: what code-scanning tools show above an
/// alert (short and full description), the help a reader follows to fix it, the level a result
/// has by default, and tags (CWE ids in the form GitHub and CodeQL use).
/// </summary>
/// <param name="Kind">The kind the rule describes; its id is the kind's JSON name (<see cref="ErrorKinds"/>).</param>
/// <param name="Name">A Pascal-case friendly name, as SARIF recommends.</param>
/// <param name="Level">The default level: <c>error</c> or <c>warning</c>.</param>
public sealed record SarifRule(ErrorKind Kind, string Name, string Level, string ShortDescription, string FullDescription, string Help,
    IReadOnlyList<string> Tags)
{
    /// <summary>The rule id: the kind's JSON name, stable across versions (code scanning matches results by it).</summary>
    public string Id => Kind.JsonName();
}

/// <summary>One rule per <see cref="ErrorKind"/>, in enum order (a result's ruleIndex is its kind's number).</summary>
public static class SarifRules
{
    private static readonly SarifRule[] Table =
    [
        new(ErrorKind.Unaddressable, "UnaddressableAccess", "error",
            "Access to memory the program may not touch.",
            "The program read, wrote or executed memory that is not addressable: bytes beyond either end of a heap block " +
            "(a heap overflow or underflow), inside a block already freed (use after free), below the stack pointer " +
            "(a local variable of a function that has returned), or memory that is not mapped at all.",
            "What it means: the access at the reported line touched memory that does not belong to any live object. " +
            "The program may read garbage, corrupt another object or crash, and the outcome changes with the allocator and the build.\n" +
            "How to fix: for a heap block, the result says how many bytes beyond or before the block the access was and where the block " +
            "was allocated: check the index or length against the size allocated there (an off-by-one, a missing byte for the " +
            "terminating NUL). For freed memory, the result shows where the block was freed: no pointer to it may be used after " +
            "that point (free it later, or clear the pointer and test it). Below the stack pointer: do not keep or return the " +
            "address of a local variable. An access to an unmapped address is usually a NULL or wild pointer: find where it was set.",
            ["security", "memory-safety", "external/cwe/cwe-119", "external/cwe/cwe-416"]),
        new(ErrorKind.Uninitialized, "UninitializedValue", "error",
            "Use of a value that was never initialized.",
            "A value computed from memory or registers the program never wrote decides a conditional jump, is used as an address, " +
            "or is passed to a system call. Its bits are whatever the memory held before, so the program's behaviour depends on chance.",
            "What it means: at the reported line the program depends on a value no code has set: a local variable without an " +
            "initializer, a field of a malloc'ed structure never assigned, padding bytes, or an array element past what was filled. " +
            "Copying such a value is not reported; using it is.\n" +
            "How to fix: initialize the variable where it is declared, allocate with calloc or clear the block with memset, or make " +
            "sure every path sets the value before it is read. Run with --track-origins=yes to see where the undefined value was " +
            "created (the allocation or the stack frame).",
            ["security", "correctness", "external/cwe/cwe-457", "external/cwe/cwe-908"]),
        new(ErrorKind.InvalidHeapArgument, "InvalidHeapArgument", "error",
            "A heap routine was given a pointer that is not a live heap block.",
            "free, delete, realloc or another heap routine received a pointer that is not the start of a block the heap handed out " +
            "and that is still allocated: a double free, a pointer into the middle of a block, the address of a non-heap object, or " +
            "a block freed by another family than the one that allocated it (malloc/delete, new/free, new[]/delete).",
            "What it means: the heap was asked to release memory it does not own in that form. With the usual allocators this " +
            "corrupts the heap's own data and can be exploited.\n" +
            "How to fix: free each block exactly once, with the pointer its allocation returned and the routine of the same family " +
            "(malloc/calloc/realloc with free, new with delete, new[] with delete[]). For a double free, the result shows where the " +
            "block was first freed: clear the pointer there or decide which owner frees it.",
            ["security", "memory-safety", "external/cwe/cwe-415", "external/cwe/cwe-590", "external/cwe/cwe-761", "external/cwe/cwe-762"]),
        new(ErrorKind.Leak, "MemoryLeak", "error",
            "A heap block is no longer reachable from any pointer.",
            "At exit (or at a nudge's leak check) no pointer to this heap block remains in the program's registers, stacks, " +
            "globals or other reachable blocks: the program can never free it. A leak record folds the blocks allocated at the " +
            "same place; the bytes lost through them (blocks reachable only from these) are counted as indirect.",
            "What it means: memory was allocated at the reported line and then every pointer to it was lost. A program that " +
            "runs long or repeats the allocation grows without bound.\n" +
            "How to fix: find where the last pointer to the block is dropped (overwritten, going out of scope, a container " +
            "cleared) and free the block there, or keep a pointer to it until the program frees it. Fixing the record with " +
            "direct bytes usually frees the indirect ones too.",
            ["reliability", "memory", "external/cwe/cwe-401"]),
        new(ErrorKind.PossibleLeak, "PossibleMemoryLeak", "warning",
            "A heap block is reachable only through pointers into its middle.",
            "At exit no pointer to the start of this heap block remains, only pointers into its interior. The program may still " +
            "find the block (some data structures keep such pointers on purpose), or may have lost it.",
            "What it means: the block is probably leaked, unless the program deliberately points into it (a string's length " +
            "prefix, a structure reached through one of its members, a custom allocator's header).\n" +
            "How to fix: if the interior pointer is deliberate, keep a pointer to the block's start as well or free the block " +
            "before exit; otherwise treat it as a leak and free the block where its last pointer is dropped.",
            ["reliability", "memory", "external/cwe/cwe-401"]),
        new(ErrorKind.Overlap, "OverlappingCopy", "error",
            "A copy routine was called with overlapping source and destination.",
            "memcpy, strcpy, strcat, strncpy or another copy routine whose behaviour C leaves undefined for overlapping buffers " +
            "was called with a source and a destination that share bytes.",
            "What it means: the result of the copy depends on how the C library implements the routine; it can change with " +
            "the library version, the CPU or the length, and silently corrupt the data.\n" +
            "How to fix: use memmove for overlapping memory, or copy through a separate buffer.",
            ["correctness", "external/cwe/cwe-475"]),
        new(ErrorKind.FishyArgument, "FishyHeapArgument", "warning",
            "A heap routine was called with a size or alignment that cannot be meant.",
            "malloc, calloc, realloc, memalign or another heap routine received a size that is negative when read as a signed " +
            "number, a count and size whose product overflows, or an alignment that is not a power of two.",
            "What it means: the argument was almost certainly computed wrongly (a subtraction that went below zero, an " +
            "unchecked multiplication); the allocation fails or allocates far less than the program expects.\n" +
            "How to fix: check the computation of the size or alignment at the reported call; test for overflow before " +
            "multiplying (or use calloc, which checks), and validate sizes that come from input.",
            ["correctness", "external/cwe/cwe-687", "external/cwe/cwe-190"]),
    ];

    static SarifRules()
    {
        // As ErrorKinds: a row out of order would give results the wrong rule.
        for (int i = 0; i < Table.Length; i++)
        {
            if ((int)Table[i].Kind != i) throw new InvalidOperationException($"SarifRules row {i} is {Table[i].Kind}");
        }
        if (Table.Length != Enum.GetValues<ErrorKind>().Length) throw new InvalidOperationException("SarifRules misses a kind");
    }

    /// <summary>Every rule, in enum order.</summary>
    public static IReadOnlyList<SarifRule> All => Table;

    /// <summary>The rule of <paramref name="kind"/>; its index in <see cref="All"/> is the kind's number.</summary>
    public static SarifRule Rule(this ErrorKind kind) => Table[(int)kind];
}
