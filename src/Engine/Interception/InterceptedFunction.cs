using Checker.Engine.State;

namespace Checker.Engine.Interception;

/// <summary>
/// Replaces a guest function: called with the guest's registers at the function's entry (arguments
/// in rdi, rsi, rdx, rcx, r8, r9; the return address at [rsp]); returns the value for rax. The
/// dispatcher then performs the function's ret.
/// </summary>
public unsafe delegate ulong InterceptHandler(ContextBlock* context);

/// <summary>A function the engine runs in C# instead of translating, found by its symbol name.</summary>
public sealed record InterceptedFunction(string Name, InterceptHandler Handler)
{
    /// <summary>
    /// The tool's number for this function in its native fast path (1-255; 0: none): the entry's
    /// fragment hands it, with the call, to the thread's <see cref="State.ContextOffsets.InterceptFast"/>
    /// routine before the C# handler is considered (see <see cref="Dispatch.InterceptCalls"/>).
    /// </summary>
    public int FastTag { get; init; }
}
