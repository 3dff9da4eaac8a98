using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>
/// The fragment of a replaced function's entry: the call of its replacement from the cache
/// (<see cref="RuntimeRoutines.InterceptCall"/>, by jump-and-link, with <c>ExitId</c> naming the
/// entry's exit), then the function's own <c>ret</c> as translated code does it: the return
/// address popped into rcx and looked up inline in the fragment's mode, a miss going to the
/// dispatcher. Replaced calls so never pass through the dispatcher loop on their common path.
/// </summary>
public static class InterceptCallEmitter
{
    /// <summary>
    /// <c>mov dword gs:[ExitId], exitId ; mov dword gs:[InterceptCall], call ; mov qword gs:[LinkReturn], back ;
    /// jmp InterceptCall ; back: mov gs:[IblSaveRcx], rcx ; pop rcx ;</c> the lookup in <paramref name="lookupTable"/>.
    /// </summary>
    /// <param name="call">The entry's number in <see cref="Interception.InterceptedCalls"/>.</param>
    public static void Emit(CodeBuffer code, int exitId, int call, RuntimeRoutines routines, ulong lookupTable, bool countLookups, int mode)
    {
        code.Encode(ContextOperand.StoreExitId(exitId));
        code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(ContextOffsets.InterceptCall), call));
        JumpAndLink.Emit(code, routines.InterceptCall);
        code.Encode(ContextOperand.Store(ContextOffsets.IblSaveRcx, Register.RCX));
        code.Encode(Instruction.Create(Code.Pop_r64, Register.RCX));
        Translation.ReturnPrediction.EmitAtReturn(code, mode, countLookups);
        if (countLookups) code.Encode(Instruction.Create(Code.Inc_rm64, ContextOperand.Slot(ContextOffsets.IblReturnLookups)));
        IndirectBranchEmitter.EmitLookup(code, lookupTable, routines, flagsLive: false, countLookups, mode);
    }
}
