using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.Definedness;

/// <summary>An undefined value used where it matters: what was read, and the stack of the use (its innermost pc exact).</summary>
public sealed record UninitializedError(string What, ulong[] Stack, HeapChunk? Chunk = null)
{
    /// <summary>What kind of use it was, as Valgrind tells them apart (its error kind and suppression kind).</summary>
    public UninitializedUse Use { get; init; } = UninitializedUse.Condition;

    /// <summary>False when the stack starts at a return address (a replaced function's caller), true when at the using instruction.</summary>
    public bool InnermostIsExact { get; init; } = true;

    /// <summary>--track-origins, for an undefined value that came from the stack: the frame that holds it.</summary>
    public StackOrigin? FromStack { get; init; }

    /// <summary>
    /// --track-origins: finds <see cref="Chunk"/> or <see cref="FromStack"/> when asked, which the
    /// report does only for an error it has not seen (a scan of the heap's blocks; cc1plus repeats
    /// 30,000 reports at 230 sites). Asked at once, while the thread's context is as at the use.
    /// </summary>
    public Func<OriginFound>? FindOrigin { get; init; }

    /// <summary>The heap block holding <see cref="UninitializedUse.Address"/> (Valgrind's "Address 0x.. is 7 bytes inside a block of size 10 alloc'd").</summary>
    public HeapChunk? AddressChunk { get; init; }
}

/// <summary>
/// Where an undefined value came from (--track-origins): a heap block, a stack frame, or heap memory
/// whose block has been freed since and left the delayed frees (<paramref name="FreedHeapAddress"/>,
/// 0: not so), which no block holds any more; nothing of the three when the origin is not known.
/// </summary>
public readonly record struct OriginFound(HeapChunk? Block, StackOrigin? Stack, ulong FreedHeapAddress = 0);

/// <summary>
/// Where on the stack an undefined value came from: a pc in the live frame holding it (the use's
/// own pc when <see cref="PcIsExact"/>, else a return address), or a frame that had returned
/// (below the stack pointer) when <see cref="Returned"/>.
/// </summary>
public sealed record StackOrigin(ulong Pc, bool PcIsExact, bool Returned);

/// <summary>Memory a system call would read or write that the program may not touch (Valgrind's "points to unaddressable byte(s)").</summary>
/// <param name="Parameter">The call and parameter as Valgrind names them: <c>write(buf)</c>.</param>
public sealed record ParameterAddressError(string What, ulong Address, ulong Size, ulong[] Stack, HeapChunk? Chunk, string Parameter);

/// <summary>The uses of an undefined value Valgrind tells apart: its error kinds UninitCondition, UninitValue and SyscallParam.</summary>
public enum UseClass
{
    /// <summary>Decides a conditional jump, move or set (Valgrind's "Conditional jump or move depends on uninitialised value(s)").</summary>
    Condition,
    /// <summary>An address, a jump target, a divisor (Valgrind's "Use of uninitialised value of size N").</summary>
    Value,
    /// <summary>A system call's register or the memory it reads (Valgrind's "Syscall param write(buf) ...").</summary>
    SyscallParameter,
}

/// <summary>One use's class, with the value's size (<see cref="UseClass.Value"/>) or the call and parameter (<c>write(buf)</c>).</summary>
public readonly record struct UninitializedUse(UseClass Class, int Size = 0, string? Parameter = null)
{
    /// <summary>For memory a system call reads: the first undefined byte (a register argument has none).</summary>
    public ulong? Address { get; init; }

    public static readonly UninitializedUse Condition = new(UseClass.Condition);

    public static UninitializedUse Value(int size) => new(UseClass.Value, size);

    public static UninitializedUse Syscall(string call, string parameter) => new(UseClass.SyscallParameter, Parameter: $"{call}({parameter})");
}
