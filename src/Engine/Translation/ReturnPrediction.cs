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
/// sqlite's, 59% of cc1plus's; any other ret falls through to the lookup. Nothing to invalidate:
/// the continuation is a direct exit (unlinked, as any exit, when its target goes), the check
/// compares the real return address, and the slots are the thread's own. A signal handler runs
/// only at a dispatcher safe point, never between a call's two stores.
/// </summary>
public static class ReturnPrediction
{
    /// <summary>Whether fragments of <paramref name="mode"/> predict (the slots exist for modes 0 and 1).</summary>
    public static bool Applies(int mode) => mode is 0 or 1;

    private static int ReturnSlot(int mode) => mode == 0 ? ContextOffsets.PredictedReturn : ContextOffsets.PredictedReturnMode1;
    private static int ContinuationSlot(int mode) => mode == 0 ? ContextOffsets.PredictedContinuation : ContextOffsets.PredictedContinuationMode1;

    /// <summary>
    /// At a call, after its return address is pushed: <c>mov qword fs:[return], R; mov qword fs:[continuation], C</c>.
    /// Returns the offset of C's imm32 field, to patch with <see cref="EmitContinuation"/>'s address; -1
    /// when the call does not predict (a return address or a code cache beyond 2^31).
    /// </summary>
    public static int EmitAtCall(CodeBuffer code, int mode, ulong returnAddress)
    {
        if (!Applies(mode) || returnAddress >= 0x8000_0000 || code.BaseAddress >= 0x8000_0000) return -1;
        code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ReturnSlot(mode)), (int)returnAddress));
        code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ContinuationSlot(mode)), 0));
        return code.Length - 4;
    }

    /// <summary>Patches the continuation's address into the call's store (<paramref name="field"/> from <see cref="EmitAtCall"/>).</summary>
    public static void PatchContinuation(CodeBuffer code, int field, ulong continuation) =>
        code.PatchInt32(field, checked((int)continuation));

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

    /// <summary>A new thread's slots: return address 0 continuing at <paramref name="returnMiss"/> (<see cref="RuntimeRoutines.ReturnMiss"/>).</summary>
    public static unsafe void Initialize(ContextBlock* context, ulong returnMiss)
    {
        if (context->PredictedContinuation != 0) return;
        context->PredictedContinuation = returnMiss;
        context->PredictedContinuationMode1 = returnMiss;
    }
}
