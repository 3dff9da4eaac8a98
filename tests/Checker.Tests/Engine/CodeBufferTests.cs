using Checker.Engine.Emission;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>CodeBuffer copies the bytes of context-slot moves it encoded once: they must be Iced's bytes for every register, slot and immediate.</summary>
public class CodeBufferTests
{
    private static byte[] IcedBytes(in Instruction instruction, ulong at)
    {
        var writer = new ListCodeWriter();
        Assert.True(Encoder.Create(64, writer).TryEncode(instruction, at, out _, out string? error), error);
        return [.. writer.Bytes];
    }

    public static TheoryData<int> Slots => new() { 0, 8, 0x2c0, 0x1234, 0x7ff8 };

    [Theory]
    [MemberData(nameof(Slots))]
    public void ContextSlotMoves_AreIcedsBytesEachTime(int slot)
    {
        var code = new CodeBuffer(0x7000_0000);
        var expected = new List<byte>();
        // Twice each: the first encodes the form, the second copies it (with another immediate).
        for (int round = 0; round < 2; round++)
        {
            foreach (Register register in (Register[])[Register.RAX, Register.RCX, Register.RSP, Register.R8, Register.R12, Register.R13, Register.R15])
            {
                foreach (Instruction ins in (Instruction[])[ContextOperand.Store(slot, register), ContextOperand.Load(register, slot)])
                {
                    expected.AddRange(IcedBytes(ins, code.CurrentAddress));
                    code.Encode(ins);
                }
            }
            foreach (int value in (int[])[0, 1, -1, 0x7fff_ffff, unchecked((int)0x8000_0000) + round])
            {
                foreach (Instruction ins in (Instruction[])[
                    Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(slot), value),
                    Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(slot), value)])
                {
                    expected.AddRange(IcedBytes(ins, code.CurrentAddress));
                    code.Encode(ins);
                }
            }
        }
        Assert.Equal(expected.ToArray(), code.Bytes.ToArray());
    }
}
