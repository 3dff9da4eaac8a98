namespace Checker.Reports;

/// <summary>Whether an access read or wrote memory, or fetched an instruction from it.</summary>
public enum AccessType { Read, Write, Execute }

/// <summary>Whether a heap block involved in an error is still allocated or already freed.</summary>
public enum BlockState { Allocated, Freed }

/// <summary>The memory access that went wrong.</summary>
public sealed record AccessInfo(AccessType Type, ulong Address, ulong Size);

/// <summary>The heap block an error is about, with where it was allocated and (if so) freed, innermost first.</summary>
public sealed record BlockInfo(
    ulong Address,
    ulong Size,
    BlockState State,
    IReadOnlyList<ReportFrame> AllocStack,
    IReadOnlyList<ReportFrame>? FreeStack = null);

/// <summary>
/// What a leak record loses; a record folds the leaked blocks of one allocation site, as Valgrind's
/// loss records do, and counts as one occurrence per block.
/// </summary>
/// <param name="Bytes">All the bytes lost: the blocks' own and those lost through them (indirect).</param>
/// <param name="Blocks">The blocks the record folds (each a definite or a possible leak).</param>
/// <param name="Indirect">The blocks are reachable only from other leaked blocks.</param>
/// <param name="IndirectBytes">Bytes of the blocks reachable only through these ones (indirectly lost).</param>
/// <param name="IndirectBlocks">How many blocks those are.</param>
public sealed record LeakInfo(ulong Bytes, ulong Blocks, bool Indirect, ulong IndirectBytes, ulong IndirectBlocks = 0)
{
    /// <summary>The folded blocks' own bytes.</summary>
    public ulong DirectBytes => Bytes - IndirectBytes;
}

/// <summary>
/// One detected error, as detection emits it (detection never prints: src/Reports presents).
/// The text report shows <c>Error #n: HEADLINE detail: message</c>; JSON's "message" is
/// <see cref="Description"/>.
/// </summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Message">One line, e.g. <c>writing 1 byte(s) at 0x5010 0 byte(s) beyond a 10-byte block</c>.</param>
/// <param name="Thread">The guest thread id the error happened on.</param>
/// <param name="Stack">The callstack, innermost first (for a leak, the allocation's).</param>
/// <param name="Detail">Optional qualifier of the headline: <c>beyond heap bounds</c>, <c>of freed memory</c>.</param>
/// <param name="Access">The access, for access errors.</param>
/// <param name="Block">The heap block, for heap errors.</param>
/// <param name="Leak">The loss, for leaks.</param>
/// <param name="ThreadOrigin">The thread's kernel id and where it was created (absent for leaks).</param>
public sealed record ErrorRecord(
    ErrorKind Kind,
    string Message,
    int Thread,
    IReadOnlyList<ReportFrame> Stack,
    string? Detail = null,
    AccessInfo? Access = null,
    BlockInfo? Block = null,
    LeakInfo? Leak = null,
    ThreadOrigin? ThreadOrigin = null)
{
    /// <summary>How Valgrind names this error (XML kind, suppression kind); null when memcheck has no such error.</summary>
    public ValgrindKind? Valgrind { get; init; }

    /// <summary>The address an error without an <see cref="Access"/> is about: the pointer given to
    /// free or delete, the first undefined byte a system call reads. Null otherwise.</summary>
    public ulong? Address { get; init; }

    /// <summary>The heap block holding <see cref="Address"/> when it is not <see cref="Block"/> (an
    /// uninitialized error's <see cref="Block"/> is where the value came from, with --track-origins).</summary>
    public BlockInfo? AddressBlock { get; init; }

    /// <summary>The error without its headline: <c>beyond heap bounds: writing ...</c>, or just the message.</summary>
    public string Description => Detail is null ? Message : $"{Detail}: {Message}";
}

/// <summary>The thread an error happened on: its kernel id, and the stack that created it (empty for the main thread).</summary>
public sealed record ThreadOrigin(long Tid, IReadOnlyList<ReportFrame> CreatedAt);
