using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// Returns predicted from the thread's latest call. A call records, per thread and mode, the return
/// address it pushes and where its translation continues: an exit of the calling fragment to that
/// address, linked like any other. A ret compares its target with the recorded address and, when
/// they agree, jumps to the continuation (two loads, a compare, an indirect jump the CPU predicts per
/// ret site) instead of the inline table lookup (~16 instructions and a load from a 512 KB table).
/// It agrees for a leaf function's return and a tail call's: 73% of python's rets, 72% of
/// sqlite's, 59% of cc1plus's; any other ret falls through to the lookup. The continuation is a
/// direct exit, and the call stores its address only until the exit is linked: then the call's
/// imm32 is the target fragment's entry itself (<see cref="TranslationCache.Link"/> patches both,
/// every unlink puts the exit's address back), so a predicted ret takes one jump, not two. What a
/// flush must undo is then in the threads' slots too: a slot holding a flushed fragment's entry is
/// swapped for the mode's <see cref="RuntimeRoutines.ReturnMiss"/> (<see cref="Forget"/>), which leaves
/// for the dispatcher with the slot's return address. The check compares the real return address,
/// and only the thread writes its return slots. A signal handler runs only at a dispatcher safe
/// point, never between a call's two stores.
/// </summary>
public static class ReturnPrediction
{
    /// <summary>Whether fragments of <paramref name="mode"/> predict (the slots exist for modes 0 and 1).</summary>
    public static bool Applies(int mode) => mode is 0 or 1;

    private static int ReturnSlot(int mode) => mode == 0 ? ContextOffsets.PredictedReturn : ContextOffsets.PredictedReturnMode1;
    private static int ContinuationSlot(int mode) => mode == 0 ? ContextOffsets.PredictedContinuation : ContextOffsets.PredictedContinuationMode1;

    /// <summary>
    /// At a call, after its return address is pushed: <c>mov qword fs:[return], R; mov qword fs:[continuation], C</c>
    /// (in either order).
    /// Returns the offset of C's imm32 field, to patch with <see cref="EmitContinuation"/>'s address; -1
    /// when the call does not predict (a return address or a code cache beyond 2^31).
    /// </summary>
    public static int EmitAtCall(CodeBuffer code, int mode, ulong returnAddress)
    {
        if (!Applies(mode) || returnAddress >= 0x8000_0000 || code.BaseAddress >= 0x8000_0000) return -1;
        // The continuation's imm32 (its store's last 4 of 13 bytes) is relinked by one 4-byte store,
        // so it must lie within an aligned quadword: the two stores go in whichever order puts it
        // there (one of the two always does), no padding on the call's path.
        bool continuationFirst = ((code.CurrentAddress + StoreLength - 4) & 7) <= 4;
        if (!continuationFirst) code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ReturnSlot(mode)), (int)returnAddress));
        code.AlignPatchField(StoreLength - 4);   // never pads (see above); keeps the field's invariant checked
        code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ContinuationSlot(mode)), 0));
        int field = code.Length - 4;
        if (continuationFirst) code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ReturnSlot(mode)), (int)returnAddress));
        return field;
    }

    // mov qword fs:[disp32], imm32: fs, REX.W, C7, ModRM, SIB, disp32, imm32.
    private const int StoreLength = 13;

    /// <summary>
    /// Patches the continuation's address into the call's store (<paramref name="field"/> from
    /// <see cref="EmitAtCall"/>): the jmp of its exit, whose rel32 is at <paramref name="exitField"/>.
    /// </summary>
    public static void PatchContinuation(CodeBuffer code, int field, int exitField) =>
        code.PatchInt32(field, checked((int)(code.BaseAddress + (ulong)exitField - 1)));

    /// <summary>
    /// After a flush: every slot of <paramref name="context"/> that continues at one of
    /// <paramref name="entries"/> continues at its mode's miss routine instead (a compare-and-swap:
    /// the thread may be storing a new prediction meanwhile, which then stands).
    /// </summary>
    public static unsafe void Forget(ContextBlock* context, HashSet<ulong> entries, ulong returnMiss, ulong returnMissMode1)
    {
        ulong mode0 = Volatile.Read(ref context->PredictedContinuation), mode1 = Volatile.Read(ref context->PredictedContinuationMode1);
        if (entries.Contains(mode0)) Interlocked.CompareExchange(ref context->PredictedContinuation, returnMiss, mode0);
        if (entries.Contains(mode1)) Interlocked.CompareExchange(ref context->PredictedContinuationMode1, returnMissMode1, mode1);
    }

    /// <summary>
    /// At a ret, after its target is popped into rcx (the guest's rcx in IblSaveRcx, flags dead):
    /// <c>cmp rcx, fs:[return]; jne lookup; mov rcx, fs:[IblSaveRcx]; jmp fs:[continuation]</c>, the
    /// lookup following.
    /// </summary>
    public static void EmitAtReturn(CodeBuffer code, int mode, bool count)
    {
        if (!Applies(mode)) return;
        code.Encode(Instruction.Create(Code.Cmp_r64_rm64, Register.RCX, ContextOperand.Slot(ReturnSlot(mode))));
        code.Raw([0x75, 0x00]);   // jne: to the lookup
        int from = code.Length;
        if (count) code.Encode(Instruction.Create(Code.Inc_rm64, ContextOperand.Slot(ContextOffsets.PredictedReturns)));
        code.LoadSlot(Register.RCX, ContextOffsets.IblSaveRcx);
        code.Encode(ContextOperand.JumpThrough(ContinuationSlot(mode)));
        code.PatchByte(from - 1, checked((byte)(code.Length - from)));
    }

    /// <summary>A new thread's slots: return address 0 continuing at its mode's miss routine (<see cref="RuntimeRoutines.ReturnMiss"/>).</summary>
    public static unsafe void Initialize(ContextBlock* context, RuntimeRoutines routines)
    {
        if (context->PredictedContinuation != 0) return;
        context->PredictedContinuation = routines.ReturnMiss;
        context->PredictedContinuationMode1 = routines.ReturnMissMode1;
    }
}
