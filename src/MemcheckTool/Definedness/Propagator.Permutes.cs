using System.Buffers.Binary;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// Rules of the permutes (AVX2/AVX-512): each result element takes the shadow of the element it
/// selects; an index or control element with any undefined bit makes its result element undefined
/// (as Valgrind does: the index's shadow, pessimised, is or-ed into the picked lane).
/// </summary>
internal sealed unsafe partial class Propagator
{
    /// <summary>Element size of a permute from its mnemonic's suffix (vpermd, vpermi2pd, vpermt2w, vpermb...).</summary>
    private static int PermuteElement(Mnemonic mnemonic)
    {
        string name = mnemonic.ToString();
        return name.EndsWith("pd", StringComparison.Ordinal) ? 8 : name.EndsWith("ps", StringComparison.Ordinal) ? 4
            : name.EndsWith('q') ? 8 : name.EndsWith('d') ? 4 : name.EndsWith('w') ? 2 : 1;
    }

    /// <summary>Operand <paramref name="op"/>'s shadow, an embedded-broadcast memory element replicated.</summary>
    private void ReadSource(ContextBlock* c, in Instruction ins, int op, Span<byte> into)
    {
        ReadOperand(c, ins, op, into);
        if (ins.IsBroadcast) Broadcast(ins, op, into);
    }

    /// <summary>Operand <paramref name="op"/>'s value, an embedded-broadcast memory element replicated.</summary>
    private static void ReadSourceValue(ContextBlock* c, in Instruction ins, int op, Span<byte> into)
    {
        ReadValue(c, ins, op, into);
        if (ins.IsBroadcast) Broadcast(ins, op, into);
    }

    /// <summary>
    /// vpermd/vpermps/vpermq/vpermpd/vpermw/vpermb: result element i is the table's element
    /// index[i] mod n across the whole register (op1 the index, op2 the table); vpermq/vpermpd with an
    /// immediate pick qwords within each 256-bit half, two bits each.
    /// </summary>
    private void PermuteVariable(ContextBlock* c, in Instruction ins)
    {
        int element = PermuteElement(ins.Mnemonic), size = OperandSize(ins, 0), n = size / element;
        Span<byte> table = stackalloc byte[64], result = stackalloc byte[64];
        result.Clear();
        if (ins.GetOpKind(ins.OpCount - 1) == OpKind.Immediate8)
        {
            ReadSource(c, ins, 1, table);
            int control = (int)ins.GetImmediate(ins.OpCount - 1);
            for (int i = 0; i < n; i++)
                Pick(table, (i & ~3) + ((control >> (2 * (i & 3))) & 3), result, i, element);
        }
        else
        {
            Span<byte> index = stackalloc byte[64], indexShadow = stackalloc byte[64];
            ReadSource(c, ins, 2, table);
            ReadOperand(c, ins, 1, indexShadow);
            ReadValue(c, ins, 1, index[..size]);
            for (int i = 0; i < n; i++)
                if (!Undefined(indexShadow, i, element, result)) Pick(table, index[i * element] & (n - 1), result, i, element);
        }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>
    /// vpermi2* (op0 the index, overwritten; op1 and op2 the tables) and vpermt2* (op0 the first table,
    /// overwritten; op1 the index; op2 the second table): index bit log2(n) chooses the table.
    /// </summary>
    private void PermuteTwoTables(ContextBlock* c, in Instruction ins)
    {
        int element = PermuteElement(ins.Mnemonic), size = OperandSize(ins, 0), n = size / element;
        bool indexFirst = ins.Mnemonic.ToString().StartsWith("Vpermi2", StringComparison.Ordinal);
        int indexOp = indexFirst ? 0 : 1, firstOp = indexFirst ? 1 : 0;
        Span<byte> first = stackalloc byte[64], second = stackalloc byte[64], index = stackalloc byte[64], indexShadow = stackalloc byte[64],
            result = stackalloc byte[64];
        ReadOperand(c, ins, firstOp, first);
        ReadSource(c, ins, 2, second);
        ReadOperand(c, ins, indexOp, indexShadow);
        ReadValue(c, ins, indexOp, index[..size]);
        result.Clear();
        for (int i = 0; i < n; i++)
        {
            if (Undefined(indexShadow, i, element, result)) continue;
            int pick = index[i * element] & (2 * n - 1);
            Pick(pick < n ? first : second, pick & (n - 1), result, i, element);
        }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>
    /// vpermilps/vpermilpd: elements picked within each 128-bit lane, by the immediate (ps: two bits
    /// per element, the same for every lane; pd: one bit per element) or by a control vector (ps:
    /// bits 1:0 of each control dword; pd: bit 1 of each control qword).
    /// </summary>
    private void PermuteInLane(ContextBlock* c, in Instruction ins)
    {
        bool doubles = ins.Mnemonic == Mnemonic.Vpermilpd;
        int element = doubles ? 8 : 4, perLane = 16 / element, size = OperandSize(ins, 0), n = size / element;
        Span<byte> source = stackalloc byte[64], result = stackalloc byte[64];
        ReadSource(c, ins, 1, source);
        result.Clear();
        if (ins.GetOpKind(ins.OpCount - 1) == OpKind.Immediate8)
        {
            int control = (int)ins.GetImmediate(ins.OpCount - 1);
            for (int i = 0; i < n; i++)
            {
                int within = doubles ? (control >> (i & 7)) & 1 : (control >> (2 * (i & 3))) & 3;
                Pick(source, i / perLane * perLane + within, result, i, element);
            }
        }
        else
        {
            Span<byte> control = stackalloc byte[64], controlShadow = stackalloc byte[64];
            ReadSource(c, ins, 2, controlShadow);
            ReadSourceValue(c, ins, 2, control[..size]);
            for (int i = 0; i < n; i++)
            {
                if (Undefined(controlShadow, i, element, result)) continue;
                int within = doubles ? (control[i * element] >> 1) & 1 : control[i * element] & 3;
                Pick(source, i / perLane * perLane + within, result, i, element);
            }
        }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>vperm2i128/vperm2f128: each 128-bit half of the result is one of the four halves of the sources (imm bits 1:0 and 5:4), or a defined zero (bits 3 and 7).</summary>
    private void PermuteHalves(ContextBlock* c, in Instruction ins)
    {
        Span<byte> a = stackalloc byte[64], b = stackalloc byte[64], result = stackalloc byte[32];
        ReadOperand(c, ins, 1, a);
        ReadOperand(c, ins, 2, b);
        int control = (int)ins.GetImmediate(3);
        result.Clear();
        for (int half = 0; half < 2; half++)
        {
            int select = (control >> (4 * half)) & 0xf;
            if ((select & 8) != 0) continue;
            ((select & 2) != 0 ? b : a).Slice(16 * (select & 1), 16).CopyTo(result[(16 * half)..]);
        }
        WriteOperand(c, ins, 0, result);
    }

    /// <summary>valignd/valignq: (op1:op2) as one 2n-element value shifted right by imm mod n elements, the low n kept (gcc extracts a lane so).</summary>
    private void AlignElements(ContextBlock* c, in Instruction ins)
    {
        int element = ins.Mnemonic == Mnemonic.Valignq ? 8 : 4, size = OperandSize(ins, 0), n = size / element;
        Span<byte> high = stackalloc byte[64], low = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, 1, high);
        ReadSource(c, ins, 2, low);
        int shift = (int)ins.GetImmediate(3) & (n - 1);
        for (int i = 0; i < n; i++)
            Pick(i + shift < n ? low : high, (i + shift) & (n - 1), result, i, element);
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>Result element <paramref name="at"/> takes <paramref name="from"/>'s element <paramref name="pick"/>.</summary>
    private static void Pick(ReadOnlySpan<byte> from, int pick, Span<byte> result, int at, int element) =>
        from.Slice(pick * element, element).CopyTo(result[(at * element)..]);

    /// <summary>When index element <paramref name="i"/> has an undefined bit, its result element is all undefined (and true).</summary>
    private static bool Undefined(ReadOnlySpan<byte> indexShadow, int i, int element, Span<byte> result)
    {
        if (!Any(indexShadow.Slice(i * element, element))) return false;
        result.Slice(i * element, element).Fill(0xff);
        return true;
    }

    /// <summary>
    /// vpcompress*/vcompressp* (active elements of the source packed low; a memory destination gets
    /// only those) and vpexpand*/vexpandp* (consecutive source elements spread to the active ones):
    /// each element's shadow moves with it; under a register destination the rest keep their shadow,
    /// or are defined zeros under {z}. An undefined mask makes the result pessimistic.
    /// </summary>
    private void CompressOrExpand(ContextBlock* c, in Instruction ins)
    {
        if (ins.OpMask != Register.None && ShadowRegisters.IsUndefined(c, ins.OpMask)) { Pessimistic(c, ins); return; }
        int element = PermuteElement(ins.Mnemonic);
        bool compress = ins.Mnemonic.ToString().Contains("compress", StringComparison.OrdinalIgnoreCase);
        Register vector = compress ? ins.Op1Register : ins.Op0Register;
        int n = vector.Bytes() / element;
        ulong mask = ulong.MaxValue;
        if (ins.OpMask != Register.None)
        {
            Span<byte> maskValue = stackalloc byte[8];
            GuestValues.Read(c, ins.OpMask, maskValue);
            mask = BinaryPrimitives.ReadUInt64LittleEndian(maskValue);
        }
        int active = 0;
        for (int i = 0; i < n; i++) if (((mask >> i) & 1) != 0) active++;
        Span<byte> source = stackalloc byte[64], result = stackalloc byte[64];
        source.Clear();
        if (!compress && ins.Op1Kind == OpKind.Memory) memory.Read(GuestValues.Address(c, ins), source[..(active * element)]);
        else ShadowRegisters.Read(c, compress ? ins.Op1Register : ins.Op1Register, source);
        if (compress && ins.Op0Kind == OpKind.Memory)
        {
            for (int i = 0, k = 0; i < n; i++)
                if (((mask >> i) & 1) != 0) source.Slice(i * element, element).CopyTo(result[(k++ * element)..]);
            ulong target = GuestValues.Address(c, ins);
            memory.Write(target, result[..(active * element)]);
            if (origins != null && Any(result[..(active * element)])) origins.Stored(target, active * element, _origin);
            return;
        }
        ShadowRegisters.Read(c, ins.Op0Register, result);
        if (ins.ZeroingMasking || ins.OpMask == Register.None) result.Clear();
        for (int i = 0, k = 0; i < n; i++)
        {
            if (((mask >> i) & 1) == 0) continue;
            if (compress) source.Slice(i * element, element).CopyTo(result[(k++ * element)..]);
            else source.Slice(k++ * element, element).CopyTo(result[(i * element)..]);
        }
        // A compress into a register leaves the elements past the packed ones as merge or {z} says.
        if (compress && !ins.ZeroingMasking && ins.OpMask != Register.None)
        {
            Span<byte> old = stackalloc byte[64];
            ShadowRegisters.Read(c, ins.Op0Register, old);
            old[(active * element)..vector.Bytes()].CopyTo(result[(active * element)..]);
        }
        else if (compress) result[(active * element)..].Clear();
        ShadowRegisters.Write(c, ins.Op0Register, result[..ins.Op0Register.Bytes()], zeroUpper: true);
    }
}
