using Checker.MemcheckTool.Heap;
using Checker.Engine.State;
using Checker.Symbols.Unwinding;

using Checker.Engine.Interception;

namespace Checker.MemcheckTool.Replacements;

/// <summary>
/// The channel from the string replacements to the tool. A replacement whose source and destination
/// overlap calls <c>checker_report_overlap(function, dst, src, n, c)</c> in libchecker-replace.so
/// before it copies (one range comparison decides it, so the usual path pays nothing more); the
/// engine intercepts that function's entry like malloc's (<see cref="FunctionInterceptor.Intercept"/>,
/// <c>ExitKind.Intercept</c>), and <see cref="Report"/> reads the arguments, captures the callstack
/// at the call (the replacement's frame, then the program's caller) and emits an
/// <see cref="OverlapError"/>. The replacement then finishes the copy as memmove does.
/// </summary>
public sealed unsafe class OverlapHook(int callstackFrames, FrameRuleCache? rules)
{
    /// <summary>The hook's symbol in libchecker-replace.so (exported, never redirected to).</summary>
    public const string SymbolName = "checker_report_overlap";

    // The function names are string literals of the library: a few addresses, each read once.
    private readonly Dictionary<ulong, string> _names = new();

    /// <summary>Receives each overlap (memcheck's report session); nothing is printed here.</summary>
    public Action<OverlapError>? Errors { get; set; }

    /// <summary>
    /// Callers whose overlapping copies are not reported: ld.so's own (its private memcpy is glibc's
    /// memmove, and Valgrind leaves ld.so's copies alone too).
    /// </summary>
    public Func<ulong, bool>? Exempt { get; set; }

    /// <summary>What the interceptor runs at the hook's entry.</summary>
    public InterceptedFunction Function => new(SymbolName, Report);

    private ulong Report(ContextBlock* context)
    {
        ulong[] stack = CallstackCapture.Capture(context, context->UnwindTop, callstackFrames, rules);
        // stack[0] is in the replaced routine, stack[1] in its caller.
        if (stack.Length > 1 && Exempt?.Invoke(stack[1]) == true) return 0;
        Errors?.Invoke(new OverlapError(Name(context->Rdi), context->Rsi, context->Rdx, context->Rcx, (int)context->R8, stack));
        return 0;
    }

    /// <summary>
    /// The routine's name from its pointer argument. Read without trusting it (the program could call
    /// the hook itself): through process_vm_readv, and only a name the replacements report by.
    /// </summary>
    private string Name(ulong pointer)
    {
        if (_names.TryGetValue(pointer, out string? known)) return known;
        Span<byte> bytes = stackalloc byte[16];
        int length = 0;
        while (length < bytes.Length && ProcessMemoryReader.Current.TryRead(pointer + (ulong)length, bytes.Slice(length, 1)) && bytes[length] != 0)
            length++;
        string name = System.Text.Encoding.ASCII.GetString(bytes[..length]);
        if (!StringReplacements.OverlapArguments.ContainsKey(name)) name = "??";
        return _names[pointer] = name;
    }
}
