using Checker.Engine.State;
using Checker.Symbols.Unwinding;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Raw return addresses at a replaced call, captured cheaply (DESIGN: symbolize lazily, only for
/// blocks that end up in a report). At the replaced function's entry the caller's return address
/// is at [rsp]; from there each frame steps by its CFI reduced to arithmetic
/// (<see cref="FrameRuleCache"/>: libdw runs once per distinct pc), else by the frame-pointer chain.
/// Only the guest stack [rsp, stackTop) is read, so a bad rule or rbp ends the walk, never faults.
/// Locals are not zeroed first (every malloc and free captures; the walk writes what it reads back).
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]
public static unsafe class CallstackCapture
{
    /// <summary>Every captured stack, interned: callers get shared arrays and must not modify them.</summary>
    public static CallstackTable Stacks { get; } = new();

    /// <summary>Walks stepped frame by frame (the memo's misses), for <c>--stats</c>; not synchronized (a count, not a total to rely on).</summary>
    public static long Walks { get; private set; }

    /// <summary>At a replaced function's entry: the caller's return address is at [rsp].</summary>
    public static ulong[] Capture(ContextBlock* context, ulong stackTop, int maxFrames, FrameRuleCache? rules) =>
        Stacks[CaptureId(context, stackTop, maxFrames, rules)];

    /// <summary><see cref="Capture"/>, as the stack's number in <see cref="Stacks"/> (the heap keeps numbers).</summary>
    public static int CaptureId(ContextBlock* context, ulong stackTop, int maxFrames, FrameRuleCache? rules)
    {
        ulong rsp = context->Gpr[4];   // rsp (the property's getter stayed out of line)
        if (rsp + 8 > stackTop) return Stacks.InternId([]);
        return Walk(*(ulong*)rsp, rsp + 8, context->Gpr[5], innermostIsExact: false, stackTop, maxFrames, rules);
    }

    /// <summary>
    /// Inside a function, at the instruction <paramref name="pc"/> (an access error): the first frame
    /// is that pc itself and its CFI rule is the one at the pc, not at pc - 1.
    /// </summary>
    public static ulong[] CaptureAt(ulong pc, ulong rsp, ulong rbp, ulong stackTop, int maxFrames, FrameRuleCache? rules) =>
        rsp >= stackTop ? [pc] : Stacks[Walk(pc, rsp, rbp, innermostIsExact: true, stackTop, maxFrames, rules)];

    private static int Walk(ulong pc, ulong rsp, ulong rbp, bool innermostIsExact, ulong stackTop, int maxFrames, FrameRuleCache? rules)
    {
        var start = new WalkStart(pc, rsp, rbp, innermostIsExact, stackTop, maxFrames);
        WalkMemo memo = WalkMemo.For(rules);
        if (memo.TryGet(start, out int known)) return known;
        return WalkAndRemember(memo, start, rules);
    }

    // Apart from the memo's hit, which then needs no frame for the buffers below.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int WalkAndRemember(WalkMemo memo, in WalkStart start, FrameRuleCache? rules)
    {
        Walks++;
        int maxFrames = start.MaxFrames;
        Span<ulong> frames = stackalloc ulong[maxFrames];
        var recorder = new WalkRecorder(stackalloc StackWord[2 * WalkMemo.MaxWords], stackalloc bool[2 * WalkMemo.MaxWords]);
        int stack = Stacks.InternId(Step(start, rules, frames, ref recorder));
        if (recorder.TryGetUsed(WalkMemo.MaxWords, out ReadOnlySpan<StackWord> used)) memo.Remember(start, recorder.UsesEntryRbp, used, stack);
        return stack;
    }

    /// <summary>The walk itself, frame by frame, telling <paramref name="recorder"/> what it reads and uses.</summary>
    private static Span<ulong> Step(in WalkStart start, FrameRuleCache? rules, Span<ulong> frames, ref WalkRecorder recorder)
    {
        (ulong pc, ulong rsp, ulong rbp, ulong stackTop) = (start.Pc, start.Rsp, start.Rbp, start.StackTop);
        int count = 0;
        frames[count++] = pc;
        bool exact = start.Exact;
        while (count < frames.Length)
        {
            ulong low = rsp;
            ulong packed = rules != null ? rules.PackedRuleAt(exact ? pc : pc - 1) : 0;
            if (PackedRule.IsPresent(packed))
            {
                bool fromRbp = PackedRule.CfaFromRbp(packed);
                if (fromRbp) recorder.UseRbp();
                ulong cfa = (fromRbp ? rbp : rsp) + (ulong)PackedRule.CfaOffset(packed);
                ulong returnSlot = cfa + (ulong)PackedRule.ReturnAddressOffset(packed);
                if (!OnStack(returnSlot, low, stackTop)) break;
                if (PackedRule.SavesRbp(packed))
                {
                    ulong rbpSlot = cfa + (ulong)PackedRule.SavedRbpOffset(packed);
                    if (!OnStack(rbpSlot, low, stackTop)) break;
                    rbp = *(ulong*)rbpSlot;
                    recorder.Read(rbpSlot, rbp, isUsed: false);
                    recorder.RbpFromLastRead();
                }
                pc = *(ulong*)returnSlot;
                recorder.Read(returnSlot, pc, isUsed: true);
                rsp = cfa;
            }
            else
            {
                recorder.UseRbp();
                if (!OnStack(rbp, low, stackTop) || !OnStack(rbp + 8, low, stackTop) || (rbp & 7) != 0) break;
                pc = ((ulong*)rbp)[1];
                ulong next = ((ulong*)rbp)[0];
                recorder.Read(rbp + 8, pc, isUsed: true);
                recorder.Read(rbp, next, isUsed: true);
                recorder.RbpFromLastRead();
                rsp = rbp + 16;
                if (next <= rbp) { if (pc >= 0x1000) frames[count++] = pc; break; }
                rbp = next;
            }
            exact = false;
            if (pc < 0x1000 || rsp <= low) break;
            frames[count++] = pc;
        }
        return frames[..count];
    }

    private static bool OnStack(ulong address, ulong low, ulong stackTop) => address >= low && address + 8 <= stackTop;
}
