using Checker.Engine.Emission;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// A template copied anywhere must be the bytes its emitter writes there: branches and RIP-relative
/// operands retargeted from the copy's own address, immediates and return points filled in.
/// </summary>
public class CodeTemplateTests
{
    private const ulong Data = 0x7100_0000, Routine = 0x7200_0000;

    private static void Emit(CodeBuffer code, CodeTemplate.Recorder? fields, int site, ulong resume)
    {
        code.Encode(Instruction.Create(Code.VEX_Shlx_r64_rm64_r64, Register.RAX,
            new MemoryOperand(Register.RIP, Register.None, 1, (long)Data, 8, false, Register.None), Register.RAX));
        fields?.Relative(0);
        code.Encode(Instruction.Create(Code.Cmp_rm8_imm8, new MemoryOperand(Register.RIP, Register.None, 1, (long)Data + 8, 8, false, Register.None), 0));
        fields?.Relative(1, trailing: 1);
        code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(0x100), site));
        fields?.Immediate(2);
        code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(0x108), 0));
        int returnField = code.Length - 4;
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, resume));
        fields?.Relative(3);
        fields?.AddressHere(returnField);
        code.PatchInt32(returnField, checked((int)code.CurrentAddress));
    }

    [Fact]
    public void CopiesAreTheEmittersBytesAtTheirOwnAddress()
    {
        CodeTemplate template = CodeTemplate.Record(Routine, (code, fields) => Emit(code, fields, 0x1234567, Routine));
        foreach (ulong at in new ulong[] { 0x7000_0000, 0x7000_1003, 0x7abc_def1 })
            foreach ((int site, ulong resume) in new[] { (0, 0x7000_2000UL), (77, 0x7fff_0000UL), (int.MaxValue, 0x7000_0000UL) })
            {
                var expected = new CodeBuffer(at);
                Emit(expected, null, site, resume);
                var copy = new CodeBuffer(at - 5);
                copy.Raw([0x90, 0x90, 0x90, 0x90, 0x90]);   // not at the buffer's start
                template.CopyTo(copy, [Data, Data + 8, (ulong)site, resume]);
                Assert.Equal(expected.Bytes.ToArray(), copy.Bytes[5..].ToArray());
            }
    }
}
