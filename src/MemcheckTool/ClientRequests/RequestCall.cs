using System.Runtime.Versioning;
using Checker.Engine.State;
using Checker.Engine.Tools;
using Checker.MemcheckTool.Heap;
using Checker.Symbols.Unwinding;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>One client request being answered: its registers, its words and, when needed, the stack at it.</summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class RequestCall
{
    private readonly int _maxFrames;
    private readonly FrameRuleCache? _rules;
    private ulong[]? _stack;

    public RequestCall(ContextBlock* context, ClientRequest request, int maxFrames, FrameRuleCache? rules)
    {
        Context = context;
        Request = request;
        _maxFrames = maxFrames;
        _rules = rules;
    }

    public ContextBlock* Context { get; }
    public ClientRequest Request { get; }

    /// <summary>The stack at the request, its first pc the request's own (exact), for errors and backtraces.</summary>
    public ulong[] Stack => _stack ??= CallstackCapture.CaptureAt(Request.Pc, Context->Rsp, Context->Gpr[5], Context->UnwindTop, _maxFrames, _rules);

    /// <summary>
    /// The stack as a block's allocation or free stack: the pc after the request first, so it reads
    /// as a return address, as every heap stack's first frame does (the request's line, once
    /// symbolized at pc - 1).
    /// </summary>
    public ulong[] BlockStack
    {
        get
        {
            ulong[] stack = Stack;
            if (stack.Length == 0) return stack;
            Span<ulong> frames = stackalloc ulong[stack.Length];
            stack.CopyTo(frames);
            frames[0] = Request.NextPc;
            return CallstackCapture.Stacks.Intern(frames);
        }
    }
}
