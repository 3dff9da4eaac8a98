using System.Buffers.Binary;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>Rules of vector instructions that move lanes: interleaves, shuffles, byte permutes, extracts, half moves.</summary>
internal sealed unsafe partial class Propagator
{
    /// <summary>
    /// punpckl/h and unpckl/h: per 128-bit lane, result element 2j is the first source's element
    /// j (or j + half for the high forms), element 2j + 1 the second source's. Broadcast sources
    /// are left to the pessimistic rule.
    /// </summary>
    private void Interleave(ContextBlock* c, in Instruction ins)
    {
        if (ins.IsBroadcast || ins.Op0Register.IsMM()) { Pessimistic(c, ins); return; }
        string name = ins.Mnemonic.ToString();
        int element = name.EndsWith("qdq", StringComparison.OrdinalIgnoreCase) || name.EndsWith("pd", StringComparison.OrdinalIgnoreCase) ? 8
            : name.EndsWith("bw", StringComparison.OrdinalIgnoreCase) ? 1
            : name.EndsWith("wd", StringComparison.OrdinalIgnoreCase) ? 2 : 4;
        bool high = name.Contains("unpckh", StringComparison.OrdinalIgnoreCase);
        int first = ins.OpCount == 2 ? 0 : 1, second = first + 1;
        int size = OperandSize(ins, 0);
        Span<byte> a = stackalloc byte[64], b = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, first, a);
        ReadOperand(c, ins, second, b);
        result.Clear();
        int perLane = 16 / element / 2;
        for (int lane = 0; lane < size; lane += 16)
            for (int j = 0; j < perLane; j++)
            {
                int from = lane + (j + (high ? perLane : 0)) * element;
                a.Slice(from, element).CopyTo(result.Slice(lane + 2 * j * element, element));
                b.Slice(from, element).CopyTo(result.Slice(lane + (2 * j + 1) * element, element));
            }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>
    /// shufps: per lane, elements 0-1 from the first source and 2-3 from the second, two bits of the
    /// immediate each; shufpd: element 0 from the first, 1 from the second, one bit per element.
    /// </summary>
    private void ShuffleTwoSources(ContextBlock* c, in Instruction ins)
    {
        if (ins.IsBroadcast) { Pessimistic(c, ins); return; }
        bool doubles = ins.Mnemonic is Mnemonic.Shufpd or Mnemonic.Vshufpd;
        int control = (int)ins.GetImmediate(ins.OpCount - 1);
        int size = OperandSize(ins, 0);
        Span<byte> a = stackalloc byte[64], b = stackalloc byte[64], result = stackalloc byte[64];
        // shufps x1, x2/m, imm (sources op0, op1) or vshufps x1, x2, x3/m, imm (op1, op2).
        ReadOperand(c, ins, ins.OpCount == 3 ? 0 : 1, a);
        ReadOperand(c, ins, ins.OpCount == 3 ? 1 : 2, b);
        result.Clear();
        for (int lane = 0; lane < size; lane += 16)
        {
            if (doubles)
            {
                int k = lane / 16;
                a.Slice(lane + 8 * ((control >> (2 * k)) & 1), 8).CopyTo(result.Slice(lane, 8));
                b.Slice(lane + 8 * ((control >> (2 * k + 1)) & 1), 8).CopyTo(result.Slice(lane + 8, 8));
                continue;
            }
            for (int j = 0; j < 4; j++)
            {
                Span<byte> from = j < 2 ? a : b;
                from.Slice(lane + 4 * ((control >> (2 * j)) & 3), 4).CopyTo(result.Slice(lane + 4 * j, 4));
            }
        }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>
    /// pshufb: result byte i of each lane is the data's byte (control & 15) of that lane, a defined 0
    /// when the control's top bit is set, undefined when the control byte is. palignr: each lane of
    /// (first:second) as 32 bytes, shifted right by the immediate, bytes past the end a defined 0.
    /// </summary>
    private void BytePermute(ContextBlock* c, in Instruction ins)
    {
        if (ins.Op0Register.IsMM() || ins.OpMask != Register.None) { Pessimistic(c, ins); return; }
        bool align = ins.Mnemonic is Mnemonic.Palignr or Mnemonic.Vpalignr;
        int size = OperandSize(ins, 0);
        // SSE: op0 is the first source (and the destination); VEX: op1 and op2.
        int first = ins.Encoding == EncodingKind.Legacy ? 0 : 1, second = first + 1;
        Span<byte> a = stackalloc byte[64], b = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, first, a);
        ReadOperand(c, ins, second, b);
        result.Clear();
        if (align)
        {
            int shift = (int)ins.GetImmediate(ins.OpCount - 1);
            for (int lane = 0; lane < size; lane += 16)
                for (int i = 0; i < 16; i++)
                {
                    int at = i + shift;
                    result[lane + i] = at < 16 ? b[lane + at] : at < 32 ? a[lane + at - 16] : (byte)0;
                }
        }
        else
        {
            Span<byte> control = stackalloc byte[64];
            ReadValue(c, ins, second, control[..size]);
            for (int lane = 0; lane < size; lane += 16)
                for (int i = 0; i < 16; i++)
                    result[lane + i] = b[lane + i] != 0 ? (byte)0xff : (control[lane + i] & 0x80) != 0 ? (byte)0 : a[lane + (control[lane + i] & 15)];
        }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>pextr*/extractps r/m, xmm, imm: the element the immediate selects (of the low 128 bits).</summary>
    private void Extract(ContextBlock* c, in Instruction ins)
    {
        if (ins.GetOpKind(1) != OpKind.Register || ins.GetOpRegister(1).IsMM()) { Pessimistic(c, ins); return; }
        string name = ins.Mnemonic.ToString();
        int element = name.EndsWith('b') ? 1 : name.EndsWith('w') ? 2 : name.EndsWith('q') ? 8 : 4;
        int index = (int)ins.GetImmediate(ins.OpCount - 1) & (16 / element - 1);
        Span<byte> source = stackalloc byte[64], result = stackalloc byte[8];
        ReadOperand(c, ins, 1, source);
        result.Clear();
        source.Slice(index * element, element).CopyTo(result);
        int size = ins.GetOpKind(0) == OpKind.Memory ? element : Math.Min(8, OperandSize(ins, 0));
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>
    /// The 8-byte half moves. Register forms: the result's halves from the destination (or, with
    /// VEX, the first source) and the second source; a store writes the register's half.
    /// </summary>
    private void HalfMove(ContextBlock* c, in Instruction ins)
    {
        string name = ins.Mnemonic.ToString();
        bool high = name.Contains("movh", StringComparison.OrdinalIgnoreCase) && !name.EndsWith("hlps", StringComparison.OrdinalIgnoreCase);
        Span<byte> a = stackalloc byte[64], b = stackalloc byte[64], result = stackalloc byte[16];
        if (ins.GetOpKind(0) == OpKind.Memory)
        {
            // movhps/movlps m64, xmm: the register's high or low half.
            ReadOperand(c, ins, 1, a);
            WriteOperand(c, ins, 0, a.Slice(high ? 8 : 0, 8));
            return;
        }
        int first = ins.OpCount == 3 ? 1 : 0, second = ins.OpCount == 3 ? 2 : 1;
        ReadOperand(c, ins, first, a);
        ReadOperand(c, ins, second, b);
        a[..16].CopyTo(result);
        if (name.EndsWith("hlps", StringComparison.OrdinalIgnoreCase)) b.Slice(8, 8).CopyTo(result);          // low = second's high
        else if (name.EndsWith("lhps", StringComparison.OrdinalIgnoreCase)) b[..8].CopyTo(result[8..]);      // high = second's low
        else if (high) b[..8].CopyTo(result[8..]);                                                          // movhps/movhpd load
        else b[..8].CopyTo(result);                                                                         // movlps/movlpd load
        WriteOperand(c, ins, 0, result);
    }

    /// <summary>pshufd (dwords per 128-bit lane), pshuflw/pshufhw (the low or high four words; the other half copied).</summary>
    private void ShuffleImmediate(ContextBlock* c, in Instruction ins)
    {
        if (ins.IsBroadcast || ins.Op0Register.IsMM()) { Pessimistic(c, ins); return; }
        string name = ins.Mnemonic.ToString();
        int control = (int)ins.GetImmediate(ins.OpCount - 1);
        int size = OperandSize(ins, 0);
        Span<byte> source = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, ins.OpCount - 2, source);
        source[..size].CopyTo(result);
        bool dwords = name.EndsWith("shufd", StringComparison.OrdinalIgnoreCase);
        int element = dwords ? 4 : 2;
        int start = dwords ? 0 : name.EndsWith("shufhw", StringComparison.OrdinalIgnoreCase) ? 8 : 0;
        for (int lane = 0; lane < size; lane += 16)
            for (int j = 0; j < 4; j++)
            {
                int pick = (control >> (2 * j)) & 3;
                source.Slice(lane + start + pick * element, element).CopyTo(result.Slice(lane + start + j * element, element));
            }
        WriteOperand(c, ins, 0, result[..size]);
    }
}
