using Checker.Symbols.Unwinding;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// --track-origins for stack memory: which live frame holds an undefined value's origin address,
/// found at the report by unwinding from the use (each frame spans [its rsp, its CFA); the
/// innermost one's red zone below rsp counts as its own). Valgrind names the function whose frame
/// allocation made the bytes undefined; the frame that still holds them is the same function
/// while it runs.
/// </summary>
internal static unsafe class StackFrameFinder
{
    public enum Place { NotOnStack, Frame, BelowStackPointer }

    /// <summary>The pc in the frame holding <paramref name="address"/> (the use's own pc for the innermost frame, else a return address).</summary>
    public static (Place Where, ulong Pc) Find(ulong address, ulong pc, ulong rsp, ulong rbp, ulong stackLow, ulong stackTop, int maxFrames, FrameRuleCache rules)
    {
        if (address < stackLow || address >= stackTop) return (Place.NotOnStack, 0);
        if (address < rsp - Instrumentation.StackTracking.RedZone) return (Place.BelowStackPointer, 0);
        bool exact = true;
        for (int frame = 0; frame < maxFrames; frame++)
        {
            if (!rules.TryGetRule(exact ? pc : pc - 1, out FrameRule rule)) break;
            ulong cfa = (rule.CfaFromRbp ? rbp : rsp) + (ulong)rule.CfaOffset;
            if (address < cfa) return (Place.Frame, pc);
            ulong returnSlot = cfa + (ulong)rule.ReturnAddressOffset;
            if (returnSlot < rsp || returnSlot + 8 > stackTop) break;
            if (rule.SavedRbpOffset is long saved)
            {
                ulong rbpSlot = cfa + (ulong)saved;
                if (rbpSlot < rsp || rbpSlot + 8 > stackTop) break;
                rbp = *(ulong*)rbpSlot;
            }
            pc = *(ulong*)returnSlot;
            if (cfa <= rsp || pc < 0x1000) break;
            rsp = cfa;
            exact = false;
        }
        return (Place.NotOnStack, 0);
    }
}
