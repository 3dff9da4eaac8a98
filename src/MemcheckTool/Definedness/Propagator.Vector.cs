using System.Buffers.Binary;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>Rules of vector instructions that work element by element or on the low element (SSE/AVX/AVX-512).</summary>
internal sealed unsafe partial class Propagator
{
    private void MoveLowElement(ContextBlock* c, in Instruction ins)
    {
        int last = ins.OpCount - 1;
        if (ins.GetOpKind(last) == OpKind.Memory || ins.GetOpKind(0) == OpKind.Memory) { Move(c, ins, false); return; }
        int element = ins.MemorySize.GetSize();
        Span<byte> result = stackalloc byte[64], low = stackalloc byte[64];
        ReadOperand(c, ins, ins.OpCount == 3 ? 1 : 0, result);
        ReadOperand(c, ins, last, low);
        low[..element].CopyTo(result);
        WriteOperand(c, ins, 0, result);
    }

    private void Elementwise(ContextBlock* c, in Instruction ins)
    {
        (int[] sources, bool writes) = Operands(ins);
        int element = ElementSize(ins);
        int size = ins.GetOpKind(0) == OpKind.Register && ins.GetOpRegister(0).IsK()
            ? (ins.OpCount > 1 ? OperandSize(ins, 1) : 16) : OperandSize(ins, 0);
        Span<byte> union = stackalloc byte[64], shadow = stackalloc byte[64];
        union.Clear();
        bool sameSources = sources.Length == 2 && ins.GetOpKind(sources[0]) == OpKind.Register && ins.GetOpKind(sources[1]) == OpKind.Register
            && ins.GetOpRegister(sources[0]) == ins.GetOpRegister(sources[1]);
        bool idiom = sameSources && ins.Mnemonic.ToString().Contains("cmpeq", StringComparison.OrdinalIgnoreCase);
        if (!idiom)
        {
            foreach (int op in sources)
            {
                if (ins.GetOpKind(op) == OpKind.Register && ins.GetOpRegister(op).IsK()) continue;
                ReadOperand(c, ins, op, shadow);
                if (ins.IsBroadcast) Broadcast(ins, op, shadow);
                for (int i = 0; i < 64; i++) union[i] |= shadow[i];
            }
        }
        if (ins.GetOpRegister(0).IsK())
        {
            // EVEX compares into a k register: one bit per element.
            ulong bitsUndefined = 0;
            for (int e = 0; e * element < size && e < 64; e++)
                if (Any(union.Slice(e * element, element))) bitsUndefined |= 1UL << e;
            Span<byte> k = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(k, bitsUndefined);
            ShadowRegisters.Write(c, ins.GetOpRegister(0), k, false);
            return;
        }
        for (int e = 0; e * element < size; e++)
        {
            Span<byte> lane = union.Slice(e * element, Math.Min(element, size - e * element));
            if (Any(lane)) lane.Fill(0xff);
        }
        if (writes) WriteOperand(c, ins, 0, union[..size]);
    }

    /// <summary>
    /// A vector shift by an immediate (<see cref="PropagationRule.VectorShift"/>): each element's shadow
    /// shifted as its bits (a count past the element: logical shifts give defined zeros, arithmetic ones
    /// the sign's shadow), the dq forms' bytes shifted within each 128-bit lane.
    /// </summary>
    private void VectorShift(ContextBlock* c, in Instruction ins)
    {
        int countOp = ins.OpCount - 1, sourceOp = ins.OpCount == 3 ? 1 : 0;
        if (ins.OpMask != Register.None || ins.IsBroadcast || ins.OpCount is < 2 or > 3 || ins.GetOpKind(countOp) != OpKind.Immediate8)
        {
            Pessimistic(c, ins);
            return;
        }
        int count = ins.Immediate8;
        int size = OperandSize(ins, 0);
        Span<byte> shadow = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, sourceOp, shadow);
        result.Clear();
        string name = ins.Mnemonic.ToString();
        bool left = name.Contains("sll", StringComparison.Ordinal), arithmetic = name.Contains("sra", StringComparison.Ordinal);
        if (name.EndsWith("dq", StringComparison.Ordinal))
        {
            for (int lane = 0; lane < size; lane += 16)
                for (int i = 0; i < 16; i++)
                {
                    int from = left ? i - count : i + count;
                    if (from >= 0 && from < 16) result[lane + i] = shadow[lane + from];
                }
        }
        else
        {
            int element = name[^1] switch { 'w' => 2, 'd' => 4, _ => 8 };
            int bits = 8 * element;
            ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
            for (int e = 0; e < size; e += element)
            {
                ulong s = 0;
                for (int b = element - 1; b >= 0; b--) s = (s << 8) | shadow[e + b];
                ulong r = left ? (count >= bits ? 0 : s << count)
                    : arithmetic ? (ulong)((long)(s << (64 - bits)) >> (64 - bits) >> Math.Min(count, bits - 1))
                    : count >= bits ? 0 : s >> count;
                r &= mask;
                for (int b = 0; b < element; b++) result[e + b] = (byte)(r >> (8 * b));
            }
        }
        WriteOperand(c, ins, 0, result[..size]);
    }

    private void Scalar(ContextBlock* c, in Instruction ins)
    {
        (int[] sources, _) = Operands(ins);
        string name = ins.Mnemonic.ToString();
        int resultElement = name.EndsWith("sd", StringComparison.OrdinalIgnoreCase) ? 8 : 4;
        int sourceElement = Math.Max(1, ins.MemorySize.GetSize());
        Span<byte> result = stackalloc byte[64], shadow = stackalloc byte[64];
        // The rest of the register: the destination's (legacy SSE) or the first source's (VEX/EVEX).
        ReadOperand(c, ins, ins.OpCount >= 3 ? 1 : 0, result);
        bool undefined = false;
        foreach (int op in sources)
        {
            if (op == 0 && ins.OpCount >= 3 && !ins.Mnemonic.ToString().StartsWith("Vfmadd", StringComparison.Ordinal)) continue;
            ReadOperand(c, ins, op, shadow);
            undefined |= Any(shadow[..Math.Min(sourceElement, OperandSize(ins, op))]);
        }
        result[..resultElement].Fill(undefined ? (byte)0xff : (byte)0);
        WriteOperand(c, ins, 0, result[..OperandSize(ins, 0)]);
    }

    private void ScalarUnary(ContextBlock* c, in Instruction ins)
    {
        int source = ins.OpCount - 1;
        while (source > 1 && ins.GetOpKind(source) is not (OpKind.Register or OpKind.Memory)) source--;
        // The input's low element: a general register whole, else the instruction's element (its memory size).
        int sourceSize = OperandSize(ins, source);
        int element = ins.GetOpKind(source) == OpKind.Register && ins.GetOpRegister(source).IsGPR() ? sourceSize
            : Math.Clamp(ins.MemorySize.GetSize(), 1, sourceSize);
        Span<byte> result = stackalloc byte[64], shadow = stackalloc byte[64];
        ReadOperand(c, ins, source, shadow);
        bool undefined = Any(shadow[..element]);
        int size = OperandSize(ins, 0);
        if (ins.Op0Register.IsGPR())
        {
            result[..size].Fill(undefined ? (byte)0xff : (byte)0);
            WriteOperand(c, ins, 0, result[..size]);
            return;
        }
        ReadOperand(c, ins, ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX ? 1 : 0, result);
        int resultElement = ins.Mnemonic.ToString().EndsWith("sd", StringComparison.OrdinalIgnoreCase) ? 8 : 4;
        result[..resultElement].Fill(undefined ? (byte)0xff : (byte)0);
        WriteOperand(c, ins, 0, result[..size]);
    }

    private void ConvertPacked(ContextBlock* c, in Instruction ins)
    {
        if (ins.OpMask != Register.None || ins.IsBroadcast) { Pessimistic(c, ins); return; }
        string name = ins.Mnemonic.ToString();
        bool widen = name.EndsWith("2pd", StringComparison.Ordinal);
        int from = widen ? 4 : 8, to = widen ? 8 : 4;
        int source = ins.OpCount - 1, size = OperandSize(ins, 0);
        // The elements converted: as many as the destination holds (widening) or the source does (narrowing).
        int elements = widen ? size / to : OperandSize(ins, source) / from;
        Span<byte> shadow = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, source, shadow);
        result.Clear();
        for (int e = 0; e < elements && (e + 1) * to <= size; e++)
            if (Any(shadow.Slice(e * from, from))) result.Slice(e * to, to).Fill(0xff);
        WriteOperand(c, ins, 0, result[..size]);
    }

    private void CompareLowElement(ContextBlock* c, in Instruction ins)
    {
        int element = Math.Max(1, ins.MemorySize.GetSize());
        Span<byte> a = stackalloc byte[64], b = stackalloc byte[64];
        ReadOperand(c, ins, 0, a);
        ReadOperand(c, ins, 1, b);
        SetFlags(c, ins, Any(a[..element]) || Any(b[..element]));
    }

    private void MoveMask(ContextBlock* c, in Instruction ins)
    {
        int element = ins.Mnemonic is Mnemonic.Pmovmskb or Mnemonic.Vpmovmskb ? 1
            : ins.Mnemonic is Mnemonic.Movmskps or Mnemonic.Vmovmskps ? 4 : 8;
        Span<byte> source = stackalloc byte[64];
        ReadOperand(c, ins, 1, source);
        int size = OperandSize(ins, 1);
        ulong bits = 0;
        for (int e = 0; e * element < size; e++)
            if ((source[e * element + element - 1] & 0x80) != 0) bits |= 1UL << e;
        Span<byte> result = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(result, bits);
        WriteOperand(c, ins, 0, result[..OperandSize(ins, 0)]);
    }
}
