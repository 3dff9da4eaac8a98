using Checker.Engine.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// Rules of the vector instructions that move whole elements or blocks in and out, narrow or widen
/// them: inserts (vinsert*, insertps, pinsr*), block extracts (vextract*), broadcasts, saturating
/// packs and pmovzx/pmovsx. Each result element takes the shadow of what it came from; zeroed
/// elements are defined.
/// </summary>
internal sealed unsafe partial class Propagator
{
    /// <summary>vinserti128/vinsertf128 and the AVX-512 vinsert*x*: op1 with the block at (imm mod blocks) replaced by op2.</summary>
    private void InsertBlock(ContextBlock* c, in Instruction ins)
    {
        int size = OperandSize(ins, 0), block = OperandSize(ins, 2);
        Span<byte> result = stackalloc byte[64], inserted = stackalloc byte[64];
        ReadOperand(c, ins, 1, result);
        ReadOperand(c, ins, 2, inserted);
        int at = (int)ins.GetImmediate(3) & (size / block - 1);
        inserted[..block].CopyTo(result[(at * block)..]);
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>vextracti128/vextractf128 and the AVX-512 vextract*x*: the block of op1 at (imm mod blocks).</summary>
    private void ExtractBlock(ContextBlock* c, in Instruction ins)
    {
        int block = OperandSize(ins, 0), from = OperandSize(ins, 1);
        Span<byte> source = stackalloc byte[64];
        ReadOperand(c, ins, 1, source);
        int at = (int)ins.GetImmediate(2) & (from / block - 1);
        WriteOperand(c, ins, 0, source.Slice(at * block, block));
    }

    /// <summary>
    /// pinsrb/w/d/q (an element from a general register or memory at imm mod n) and insertps (dword
    /// imm[7:6] of a register source, or the loaded dword, into dword imm[5:4], then the dwords of
    /// imm[3:0] zeroed). Legacy forms keep op0's other elements, VEX forms op1's.
    /// </summary>
    private void InsertElement(ContextBlock* c, in Instruction ins)
    {
        if (ins.Op0Register.IsMM()) { Pessimistic(c, ins); return; }
        bool legacy = ins.Encoding == EncodingKind.Legacy;
        int baseOp = legacy ? 0 : 1, sourceOp = baseOp + 1;
        int control = (int)ins.GetImmediate(ins.OpCount - 1);
        Span<byte> result = stackalloc byte[64], source = stackalloc byte[64];
        ReadOperand(c, ins, baseOp, result);
        ReadOperand(c, ins, sourceOp, source);
        if (ins.Mnemonic is Mnemonic.Insertps or Mnemonic.Vinsertps)
        {
            int from = ins.GetOpKind(sourceOp) == OpKind.Memory ? 0 : (control >> 6) & 3;
            source.Slice(4 * from, 4).CopyTo(result[(4 * ((control >> 4) & 3))..]);
            for (int e = 0; e < 4; e++)
                if (((control >> e) & 1) != 0) result.Slice(4 * e, 4).Clear();
        }
        else
        {
            int element = ins.MemorySize.GetSize();
            source[..element].CopyTo(result[(element * (control & (16 / element - 1)))..]);
        }
        WriteOperand(c, ins, 0, result[..16]);
    }

    /// <summary>
    /// packsswb/packuswb/packssdw/packusdw: per 128-bit lane, the first source's elements narrowed
    /// (saturated) into the low half, the second's into the high half; a narrowed element is
    /// undefined as a whole when its source element has any undefined bit.
    /// </summary>
    private void Pack(ContextBlock* c, in Instruction ins)
    {
        // A masked EVEX pack masks word/byte results, not the source elements its table entry names: pessimistic.
        if (ins.Op0Register.IsMM() || ins.OpMask != Register.None) { Pessimistic(c, ins); return; }
        int from = ins.Mnemonic.ToString().EndsWith("wb", StringComparison.Ordinal) ? 2 : 4, to = from / 2, perSource = 16 / from;
        int first = ins.Encoding == EncodingKind.Legacy ? 0 : 1, size = OperandSize(ins, 0);
        Span<byte> a = stackalloc byte[64], b = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, first, a);
        ReadSource(c, ins, first + 1, b);
        result.Clear();
        for (int lane = 0; lane < size; lane += 16)
            for (int e = 0; e < perSource; e++)
            {
                if (Any(a.Slice(lane + e * from, from))) result.Slice(lane + e * to, to).Fill(0xff);
                if (Any(b.Slice(lane + e * from, from))) result.Slice(lane + 8 + e * to, to).Fill(0xff);
            }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>The block a broadcast replicates: vpbroadcastb/w/d/q, vbroadcastss/sd, vbroadcast?128, vbroadcast?NxM (N bits times M); 0: not one of them.</summary>
    private static int BroadcastBlock(Mnemonic mnemonic)
    {
        string name = mnemonic.ToString();
        if (BlockOfSuffix(name) is int block and > 0) return block;
        if (name.EndsWith("128", StringComparison.Ordinal)) return 16;
        return name switch
        {
            "Vbroadcastss" => 4,
            "Vbroadcastsd" => 8,
            "Vpbroadcastb" => 1,
            "Vpbroadcastw" => 2,
            "Vpbroadcastd" => 4,
            "Vpbroadcastq" => 8,
            _ => 0,
        };
    }

    /// <summary>The block of a name ending in NxM (N bits times M: vbroadcasti32x4), in bytes; 0: no such suffix.</summary>
    internal static int BlockOfSuffix(string name)
    {
        int m = name.Length;
        while (m > 0 && char.IsAsciiDigit(name[m - 1])) m--;
        if (m == name.Length || m < 2 || name[m - 1] != 'x') return 0;
        int n = m - 1;
        while (n > 0 && char.IsAsciiDigit(name[n - 1])) n--;
        if (n == m - 1) return 0;
        return int.Parse(name.AsSpan(n, m - 1 - n)) * int.Parse(name.AsSpan(m)) / 8;
    }

    /// <summary>Broadcasts: the source's low block (a register's low element, a general register, memory) in every block of the result.</summary>
    private void BroadcastBlocks(ContextBlock* c, in Instruction ins)
    {
        int block = BroadcastBlock(ins.Mnemonic), size = OperandSize(ins, 0);
        // Masked forms need the element size the mask counts, which Iced leaves unknown for register sources.
        if (block == 0 || ins.GetOpKind(0) != OpKind.Register || ins.OpMask != Register.None && CodeFacts.MemorySize(ins) == MemorySize.Unknown)
        {
            Pessimistic(c, ins);
            return;
        }
        Span<byte> source = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, 1, source);
        for (int at = 0; at < size; at += block) source[..block].CopyTo(result[at..]);
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>pmovzx*/pmovsx*: element i widened; zero extension is defined, sign extension takes the top bit's shadow.</summary>
    private void Widen(ContextBlock* c, in Instruction ins)
    {
        // A masked EVEX form masks the wide elements, not the narrow ones its table entry names: pessimistic.
        if (ins.OpMask != Register.None) { Pessimistic(c, ins); return; }
        string name = ins.Mnemonic.ToString();
        int Size(char letter) => letter switch { 'b' => 1, 'w' => 2, 'd' => 4, _ => 8 };
        int from = Size(name[^2]), to = Size(name[^1]), size = OperandSize(ins, 0);
        bool signExtend = name.Contains("sx", StringComparison.Ordinal);
        Span<byte> source = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, 1, source);
        result.Clear();
        for (int e = 0; e * to < size; e++)
        {
            source.Slice(e * from, from).CopyTo(result[(e * to)..]);
            if (signExtend && (source[e * from + from - 1] & 0x80) != 0) result.Slice(e * to + from, to - from).Fill(0xff);
        }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>movddup/movshdup/movsldup: each pair of elements takes one source element's shadow (the low qword of each 128-bit lane, the odd or the even dwords).</summary>
    private void Duplicate(ContextBlock* c, in Instruction ins)
    {
        if (ins.OpMask != Register.None) { Pessimistic(c, ins); return; }
        int size = OperandSize(ins, 0);
        Span<byte> source = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, 1, source);
        bool qwords = ins.Mnemonic is Mnemonic.Movddup or Mnemonic.Vmovddup;
        int element = qwords ? 8 : 4, pick = ins.Mnemonic is Mnemonic.Movshdup or Mnemonic.Vmovshdup ? 1 : 0;
        // movddup xmm, m64 reads one qword: the lane's source is where its pair starts (0 for qwords, 2i(+1) for dwords).
        for (int pair = 0; pair * 2 * element < size; pair++)
        {
            int from = qwords ? pair * 16 : (2 * pair + pick) * element;
            for (int k = 0; k < 2; k++) source.Slice(from, element).CopyTo(result[((2 * pair + k) * element)..]);
        }
        WriteOperand(c, ins, 0, result[..size]);
    }

    /// <summary>
    /// vpmov{q,d,w}{d,w,b} truncate each element to its low bytes (their shadows move); the
    /// saturating vpmovs*/vpmovus* make a narrowed element undefined when its source element has
    /// an undefined bit. The destination's upper part (a register's) is zero: defined.
    /// </summary>
    private void Narrow(ContextBlock* c, in Instruction ins)
    {
        if (ins.OpMask != Register.None) { Pessimistic(c, ins); return; }
        string name = ins.Mnemonic.ToString();
        int Size(char letter) => letter switch { 'b' => 1, 'w' => 2, 'd' => 4, _ => 8 };
        int from = Size(name[^2]), to = Size(name[^1]);
        bool saturates = name.StartsWith("Vpmovs", StringComparison.Ordinal) || name.StartsWith("Vpmovus", StringComparison.Ordinal);
        int sourceSize = OperandSize(ins, 1);
        Span<byte> source = stackalloc byte[64], result = stackalloc byte[64];
        ReadOperand(c, ins, 1, source);
        result.Clear();
        for (int e = 0; e * from < sourceSize; e++)
        {
            Span<byte> element = source.Slice(e * from, from);
            if (saturates) result.Slice(e * to, to).Fill(element.ContainsAnyExcept((byte)0) ? (byte)0xff : (byte)0);
            else element[..to].CopyTo(result[(e * to)..]);
        }
        WriteOperand(c, ins, 0, result[..OperandSize(ins, 0)]);
    }
}
