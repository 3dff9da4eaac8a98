using Checker.Engine.State;
using Checker.Symbols.Unwinding;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Raw return addresses at a replaced call, captured cheaply (DESIGN: symbolize lazily, only for
/// blocks that end up in a report). At the replaced function's entry the caller's return address
/// is at [rsp]; from there each frame steps by its CFI reduced to arithmetic
/// (<see cref="FrameRuleCache"/>: libdw runs once per distinct pc), else by the frame-pointer chain.
/// Only the guest stack [rsp, stackTop) is read, so a bad rule or rbp ends the walk, never faults.
/// </summary>
public static unsafe class CallstackCapture
{
    /// <summary>Every captured stack, interned: callers get shared arrays and must not modify them.</summary>
    public static CallstackTable Stacks { get; } = new();

    /// <summary>At a replaced function's entry: the caller's return address is at [rsp].</summary>
    public static ulong[] Capture(ContextBlock* context, ulong stackTop, int maxFrames, FrameRuleCache? rules)
    {
        ulong rsp = context->Rsp;
        if (rsp + 8 > stackTop) return [];
        return Walk(*(ulong*)rsp, rsp + 8, context->Gpr[5], innermostIsExact: false, stackTop, maxFrames, rules);
    }

    /// <summary>
    /// Inside a function, at the instruction <paramref name="pc"/> (an access error): the first frame
    /// is that pc itself and its CFI rule is the one at the pc, not at pc - 1.
    /// </summary>
    public static ulong[] CaptureAt(ulong pc, ulong rsp, ulong rbp, ulong stackTop, int maxFrames, FrameRuleCache? rules) =>
        rsp >= stackTop ? [pc] : Walk(pc, rsp, rbp, innermostIsExact: true, stackTop, maxFrames, rules);

    private static ulong[] Walk(ulong pc, ulong rsp, ulong rbp, bool innermostIsExact, ulong stackTop, int maxFrames, FrameRuleCache? rules)
    {
        Span<ulong> frames = stackalloc ulong[maxFrames];
        int count = 0;
        frames[count++] = pc;
        bool exact = innermostIsExact;
        while (count < maxFrames)
        {
            ulong low = rsp;
            if (rules != null && rules.TryGetRule(exact ? pc : pc - 1, out FrameRule rule))
            {
                ulong cfa = (rule.CfaFromRbp ? rbp : rsp) + (ulong)rule.CfaOffset;
                ulong returnSlot = cfa + (ulong)rule.ReturnAddressOffset;
                if (!OnStack(returnSlot, low, stackTop)) break;
                if (rule.SavedRbpOffset is long saved)
                {
                    ulong rbpSlot = cfa + (ulong)saved;
                    if (!OnStack(rbpSlot, low, stackTop)) break;
                    rbp = *(ulong*)rbpSlot;
                }
                pc = *(ulong*)returnSlot;
                rsp = cfa;
            }
            else
            {
                if (!OnStack(rbp, low, stackTop) || !OnStack(rbp + 8, low, stackTop) || (rbp & 7) != 0) break;
                pc = ((ulong*)rbp)[1];
                ulong next = ((ulong*)rbp)[0];
                rsp = rbp + 16;
                if (next <= rbp) { if (pc >= 0x1000) frames[count++] = pc; break; }
                rbp = next;
            }
            exact = false;
            if (pc < 0x1000 || rsp <= low) break;
            frames[count++] = pc;
        }
        return Stacks.Intern(frames[..count]);
    }

    private static bool OnStack(ulong address, ulong low, ulong stackTop) => address >= low && address + 8 <= stackTop;
}
