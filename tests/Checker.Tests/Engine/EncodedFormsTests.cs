using Checker.Engine.Emission;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// CodeBuffer copies the bytes of an instruction form it encoded before, patching displacement and
/// immediate: whatever the registers, displacement widths and immediates, they must be Iced's bytes.
/// </summary>
public class EncodedFormsTests
{
    /// <summary>Iced's bytes at <paramref name="at"/>, null for a combination Iced refuses (such as a 1-byte displacement size with a larger value).</summary>
    private static byte[]? IcedBytes(in Instruction instruction, ulong at)
    {
        var writer = new ListCodeWriter();
        return Encoder.Create(64, writer).TryEncode(instruction, at, out _, out _) ? [.. writer.Bytes] : null;
    }

    private static readonly Register[] Gprs =
        [Register.RAX, Register.RCX, Register.RDX, Register.RBX, Register.RSP, Register.RBP, Register.RSI, Register.RDI,
         Register.R8, Register.R9, Register.R12, Register.R13, Register.R15];

    private static readonly long[] Displacements = [0, 1, -1, 8, 127, -128, 128, -129, 0x1234, -0x7fff_ffff, 0x7fff_ffff];

    private static IEnumerable<MemoryOperand> Operands(Register segment)
    {
        foreach (Register b in Gprs.Append(Register.None))
            foreach (Register x in new[] { Register.None, Register.RCX, Register.R13, Register.RBP })
                foreach (long d in Displacements)
                    foreach (int displSize in new[] { 0, 1, 4, 8 })
                    {
                        if (b == Register.None && x == Register.None && d < 0) continue;
                        if (displSize == 0 && d != 0) continue;
                        yield return new MemoryOperand(b, x, x == Register.None ? 1 : 4, d, displSize, false, segment);
                    }
    }

    /// <summary>The instrumentation's shapes: lea, shifts, compares and tests of shadow, moves of context slots, pext.</summary>
    private static IEnumerable<Instruction> Shapes()
    {
        foreach (MemoryOperand m in Operands(Register.None))
        {
            yield return Instruction.Create(Code.Lea_r64_m, Register.RCX, m);
            yield return Instruction.Create(Code.Lea_r64_m, Register.R10, m);
            yield return Instruction.Create(Code.Mov_r64_rm64, Register.R9, m);
        }
        foreach (Register segment in new[] { Register.FS, Register.GS })
        {
            foreach (MemoryOperand m in Operands(segment))
            {
                foreach (int value in new[] { 0, 1, -1, 0x55, 0x7f })
                {
                    yield return Instruction.Create(Code.Cmp_rm8_imm8, m, value);
                    yield return Instruction.Create(Code.Cmp_rm16_imm8, m, value);
                    yield return Instruction.Create(Code.Cmp_rm64_imm8, m, value);
                    yield return Instruction.Create(Code.Test_rm8_imm8, m, value & 0xff);
                    yield return Instruction.Create(Code.Or_rm8_imm8, m, value & 0xff);
                    yield return Instruction.Create(Code.Mov_rm8_imm8, m, value & 0xff);
                }
                foreach (int value in new[] { 0, 1, -1, 0x5555_5555, unchecked((int)0x8000_0000), 0x1234 })
                {
                    yield return Instruction.Create(Code.Mov_rm32_imm32, m, value);
                    yield return Instruction.Create(Code.Mov_rm64_imm32, m, value);
                    yield return Instruction.Create(Code.Test_rm32_imm32, m, value);
                    yield return Instruction.Create(Code.Mov_rm16_imm16, m, value & 0xffff);
                }
                yield return Instruction.Create(Code.Mov_rm64_r64, m, Register.R11);
                yield return Instruction.Create(Code.Mov_r64_rm64, Register.RDX, m);
                yield return Instruction.Create(Code.Movzx_r32_rm16, Register.ECX, m);
                yield return Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.R14, m);
            }
        }
        foreach (Register r in Gprs)
            foreach (int value in new[] { 0, 1, 2, 63, -1 })
            {
                yield return Instruction.Create(Code.Shr_rm64_imm8, r, value & 63);
                yield return Instruction.Create(Code.Test_rm64_imm32, r, value);
                yield return Instruction.Create(Code.Pushq_imm32, value);
                yield return Instruction.Create(Code.Mov_r64_rm64, Register.RCX, r);
                yield return Instruction.Create(Code.Pop_r64, r);
            }
        // Not kept (RIP-relative, a branch, a 64-bit immediate): Iced encodes them each time.
        yield return Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, new MemoryOperand(Register.RIP, 0x7000_2000));
        yield return Instruction.Create(Code.Mov_r64_imm64, Register.RCX, 0x1234_5678_9abc_def0);
    }

    [Fact]
    public void CopiedFormsAreIcedsBytes()
    {
        var code = new CodeBuffer(0x7000_0000);
        var expected = new List<byte>();
        int count = 0;
        // Twice over: the first round encodes most forms, the second copies them.
        for (int round = 0; round < 2; round++)
        {
            foreach (Instruction ins in Shapes())
            {
                if (IcedBytes(ins, code.CurrentAddress) is not { } bytes) continue;
                expected.AddRange(bytes);
                code.Encode(ins);
                count++;
            }
        }
        Assert.True(count > 10_000);
        // Most of them were copies (the second round all but the forms never kept), not Iced again.
        Assert.True(code.CopiedInstructions > count / 2, $"{code.CopiedInstructions} of {count} copied");
        Assert.Equal(expected.ToArray(), code.Bytes.ToArray());
    }

    [Fact]
    public void SlotMovesWrittenDirectlyAreIcedsBytes()
    {
        foreach (Register r in Enumerable.Range(0, 16).Select(n => Register.RAX + n))
            foreach (int offset in new[] { 0, 8, 0x7f, 0x80, 0x3428, 0x7fff_ffff })
            {
                var code = new CodeBuffer(0x7000_0000);
                code.StoreSlot(offset, r);
                Assert.Equal(IcedBytes(ContextOperand.Store(offset, r), 0x7000_0000), code.Bytes.ToArray());
                code.Reset(0x7000_0000);
                code.LoadSlot(r, offset);
                Assert.Equal(IcedBytes(ContextOperand.Load(r, offset), 0x7000_0000), code.Bytes.ToArray());
            }
    }

    [Fact]
    public void SlotImmediatesWrittenDirectlyAreIcedsBytes()
    {
        foreach (int offset in new[] { 0, 8, 0x7f, 0x80, 0x3428, 0x7fff_ffff })
            foreach (int value in new[] { 0, 1, -1, 63, 0x7f, 0x80, -0x80, 0x1234_5678, int.MinValue, int.MaxValue })
            {
                var code = new CodeBuffer(0x7000_0000);
                code.SetSlot32(offset, value);
                Assert.Equal(IcedBytes(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(offset), value), 0x7000_0000), code.Bytes.ToArray());
                code.Reset(0x7000_0000);
                code.SetSlot64(offset, value);
                Assert.Equal(IcedBytes(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(offset), value), 0x7000_0000), code.Bytes.ToArray());
                code.Reset(0x7000_0000);
                code.TestSlot32(offset, value);
                Assert.Equal(IcedBytes(Instruction.Create(Code.Test_rm32_imm32, ContextOperand.Slot(offset), value), 0x7000_0000), code.Bytes.ToArray());
                code.Reset(0x7000_0000);
                code.TestSlot8(offset, (byte)value);
                Assert.Equal(IcedBytes(Instruction.Create(Code.Test_rm8_imm8, ContextOperand.Slot(offset), (byte)value), 0x7000_0000), code.Bytes.ToArray());
                code.Reset(0x7000_0000);
                code.OrSlot8(offset, (byte)value);
                Assert.Equal(IcedBytes(Instruction.Create(Code.Or_rm8_imm8, ContextOperand.Slot(offset), (byte)value), 0x7000_0000), code.Bytes.ToArray());
            }
    }

    [Fact]
    public void LeaWrittenDirectlyIsIcedsBytes()
    {
        Register[] all = [.. Enumerable.Range(0, 16).Select(n => Register.RAX + n), Register.None];
        long[] displacements = [0, 1, -1, 127, -128, 128, -129, 0x1234, int.MinValue, int.MaxValue, 0x1_0000_0000];
        foreach (Register d in all.Take(16))
            foreach (Register b in all)
                foreach (Register x in all)
                    foreach (int scale in new[] { 1, 2, 4, 8 })
                        foreach (long disp in displacements)
                        {
                            if (x == Register.RSP || (b == Register.None && x == Register.None && disp < 0)) continue;
                            byte[]? iced = IcedBytes(Instruction.Create(Code.Lea_r64_m, d,
                                new MemoryOperand(b, x, scale, disp, disp == 0 ? 0 : 1, false, Register.None)), 0x7000_0000);
                            if (iced == null) continue;
                            var code = new CodeBuffer(0x7000_0000);
                            code.Lea(d, b, x, scale, disp);
                            Assert.True(iced.AsSpan().SequenceEqual(code.Bytes), $"lea {d}, [{b}+{x}*{scale}+{disp}]: {Convert.ToHexString(iced)} vs {Convert.ToHexString(code.Bytes)}");
                        }
    }
}
