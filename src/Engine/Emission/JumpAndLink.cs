namespace Checker.Engine.Emission;

/// <summary>
/// The call of a shared slow-path routine from translated code without touching the guest's stack:
/// <c>mov qword gs:[LinkReturn], resume; jmp routine</c>, resume being right after the jmp; the
/// routine returns through <c>jmp gs:[LinkReturn]</c>.
/// </summary>
public static class JumpAndLink
{
    public static void Emit(CodeBuffer code, ulong routine)
    {
        code.Encode(Iced.Intel.Instruction.Create(Iced.Intel.Code.Mov_rm64_imm32, ContextOperand.Slot(State.ContextOffsets.LinkReturn), 0));
        int immediate = code.Length - 4;
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, routine));
        code.PatchInt32(immediate, checked((int)code.CurrentAddress));
    }
}
