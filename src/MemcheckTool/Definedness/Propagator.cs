using System.Buffers.Binary;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The propagating mode's C# end: before an instruction runs, its significant uses are checked
/// (<see cref="UseChecks"/>) and its outputs' shadows computed from its inputs' by the rule the
/// table gives (<see cref="PropagationRules"/>), with the guest's values where a rule needs them.
/// Shadows are little-endian byte spans, a set bit an undefined bit.
/// </summary>
internal sealed unsafe class Propagator(MemoryDefinedness memory, UseChecks uses, Origins? origins = null)
{
    private readonly InstructionInfoFactory _info = new();

    // The origin of the instruction's undefined inputs, while it is propagated (--track-origins).
    private ulong _origin;

    public void Before(ContextBlock* c, in Instruction ins)
    {
        uses.Check(c, ins);
        if (origins == null)
        {
            Apply(c, ins);
            return;
        }
        _origin = InputOrigin(c, ins);
        Apply(c, ins);
        origins.Assign(c, _origin, _info.GetInfo(ins), ins);
        _origin = 0;
    }

    /// <summary>Where the first undefined input came from: a register's or the flags' origin, or the memory operand's.</summary>
    private ulong InputOrigin(ContextBlock* c, in Instruction ins)
    {
        ulong dirty = ShadowRegisters.Dirty(c);
        foreach (UsedRegister used in _info.GetInfo(ins).GetUsedRegisters())
        {
            if (used.Access is not (OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite)) continue;
            if (ShadowRegisters.DirtyBit(used.Register) is int bit and >= 0 && ((dirty >> bit) & 1) != 0 && origins!.OfRegister(used.Register) is ulong o and not 0)
                return o;
        }
        if (((ulong)ins.RflagsRead & ShadowRegisters.Flags(c)) != 0 && origins!.OfFlags != 0) return origins.OfFlags;
        for (int op = 0; op < ins.OpCount; op++)
        {
            if (ins.GetOpKind(op) != OpKind.Memory) continue;
            ulong address = GuestValues.Address(c, ins);
            if (memory.UndefinedSpan(address, (ulong)Math.Max(1, OperandSize(ins, op))) is { } span) return origins!.OfMemory(span.First);
        }
        if (ins.IsStringInstruction && memory.UndefinedSpan(c->Rsi, 8) is { } source) return origins!.OfMemory(source.First);
        return 0;
    }

    private void Apply(ContextBlock* c, in Instruction ins)
    {
        PropagationRule rule = RuleOf(ins);
        switch (rule)
        {
            case PropagationRule.None: return;
            case PropagationRule.Define: DefineOutputs(c, ins); return;
            case PropagationRule.Move or PropagationRule.MoveSignExtend: Move(c, ins, rule == PropagationRule.MoveSignExtend); return;
            case PropagationRule.MoveLowElement: MoveLowElement(c, ins); return;
            case PropagationRule.And or PropagationRule.Or or PropagationRule.Xor or PropagationRule.AndNot: Bitwise(c, ins, rule); return;
            case PropagationRule.Arith: Arith(c, ins); return;
            case PropagationRule.Shift: Shift(c, ins); return;
            case PropagationRule.SignFill: SignFill(c, ins); return;
            case PropagationRule.Elementwise: Elementwise(c, ins); return;
            case PropagationRule.Scalar: Scalar(c, ins); return;
            case PropagationRule.CompareLowElement: CompareLowElement(c, ins); return;
            case PropagationRule.MoveMask: MoveMask(c, ins); return;
            case PropagationRule.ScanForward or PropagationRule.ScanReverse: Scan(c, ins, rule == PropagationRule.ScanForward); return;
            case PropagationRule.SetCondition: WriteOperand(c, ins, 0, stackalloc byte[1]); return;
            case PropagationRule.MoveIfCondition: MoveIfCondition(c, ins); return;
            case PropagationRule.Exchange: Exchange(c, ins); return;
            case PropagationRule.ExchangeAdd: ExchangeAdd(c, ins); return;
            case PropagationRule.Push: Push(c, ins); return;
            case PropagationRule.Pop: Pop(c, ins); return;
            case PropagationRule.String: StringOp(c, ins); return;
            case PropagationRule.Interleave: Interleave(c, ins); return;
            case PropagationRule.ShuffleImmediate: ShuffleImmediate(c, ins); return;
            case PropagationRule.BitTest: BitTest(c, ins); return;
            case PropagationRule.HalfMove: HalfMove(c, ins); return;
            case PropagationRule.Extract: Extract(c, ins); return;
            case PropagationRule.ShuffleTwoSources: ShuffleTwoSources(c, ins); return;
            case PropagationRule.BytePermute: BytePermute(c, ins); return;
            default: Pessimistic(c, ins); return;
        }
    }

    // ---- operands ----

    private static int OperandSize(in Instruction ins, int op) => ins.GetOpKind(op) switch
    {
        OpKind.Register => ins.GetOpRegister(op).GetSize(),
        OpKind.Memory => ins.IsBroadcast ? ins.MemorySize.GetElementSize() : ins.MemorySize.GetSize(),
        OpKind.Immediate8 or OpKind.Immediate8_2nd => 1,
        OpKind.Immediate16 or OpKind.Immediate8to16 => 2,
        OpKind.Immediate32 or OpKind.Immediate8to32 => 4,
        _ => 8,
    };

    /// <summary>The shadow of operand <paramref name="op"/> into <paramref name="into"/> (zero beyond its size; immediates are defined).</summary>
    private void ReadOperand(ContextBlock* c, in Instruction ins, int op, Span<byte> into)
    {
        into.Clear();
        switch (ins.GetOpKind(op))
        {
            case OpKind.Register:
                ShadowRegisters.Read(c, ins.GetOpRegister(op), into);
                return;
            case OpKind.Memory:
                int size = Math.Min(OperandSize(ins, op), into.Length);
                if (size > 0) memory.Read(GuestValues.Address(c, ins), into[..size]);
                return;
        }
    }

    /// <summary>The guest value of operand <paramref name="op"/> (registers, memory, immediates sign-extended to <paramref name="into"/>'s length).</summary>
    private static void ReadValue(ContextBlock* c, in Instruction ins, int op, Span<byte> into)
    {
        into.Clear();
        switch (ins.GetOpKind(op))
        {
            case OpKind.Register:
                GuestValues.Read(c, ins.GetOpRegister(op), into);
                return;
            case OpKind.Memory:
                int size = Math.Min(OperandSize(ins, op), into.Length);
                GuestValues.TryReadMemory(GuestValues.Address(c, ins), into[..size]);
                return;
            default:
                ulong immediate = ins.GetImmediate(op);
                for (int i = 0; i < into.Length; i++) into[i] = i < 8 ? (byte)(immediate >> (8 * i)) : (byte)((long)immediate < 0 ? 0xff : 0);
                return;
        }
    }

    private void WriteOperand(ContextBlock* c, in Instruction ins, int op, ReadOnlySpan<byte> shadow)
    {
        switch (ins.GetOpKind(op))
        {
            case OpKind.Register:
                Register register = ins.GetOpRegister(op);
                Span<byte> result = stackalloc byte[64];
                result.Clear();
                shadow[..Math.Min(shadow.Length, 64)].CopyTo(result);
                if (ins.OpMask != Register.None && op == 0 && !register.IsK()) ApplyMask(c, ins, register, result);
                ShadowRegisters.Write(c, register, result[..register.GetSize()], zeroUpper: ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX);
                return;
            case OpKind.Memory:
                int size = OperandSize(ins, op);
                Span<byte> bytes = stackalloc byte[Math.Min(size, 64)];
                bytes.Clear();
                shadow[..Math.Min(shadow.Length, bytes.Length)].CopyTo(bytes);
                if (ins.OpMask != Register.None) ApplyMaskToMemory(c, ins, bytes);
                ulong target = GuestValues.Address(c, ins);
                memory.Write(target, bytes);
                if (origins != null && Any(bytes)) origins.Stored(target, bytes.Length, _origin);
                return;
        }
    }

    /// <summary>AVX-512 masking of a register destination: unselected elements keep their shadow (or are defined zeros under {z}).</summary>
    private void ApplyMask(ContextBlock* c, in Instruction ins, Register destination, Span<byte> result)
    {
        int element = ElementSize(ins);
        Span<byte> old = stackalloc byte[64];
        ShadowRegisters.Read(c, destination, old);
        Span<byte> maskValue = stackalloc byte[8];
        GuestValues.Read(c, ins.OpMask, maskValue);
        ulong mask = BinaryPrimitives.ReadUInt64LittleEndian(maskValue);
        bool maskUndefined = ShadowRegisters.IsUndefined(c, ins.OpMask);
        for (int e = 0; e * element < destination.GetSize(); e++)
        {
            Span<byte> lane = result.Slice(e * element, element);
            if (maskUndefined) { lane.Fill(0xff); continue; }
            if (((mask >> e) & 1) != 0) continue;
            if (ins.ZeroingMasking) lane.Clear();
            else old.Slice(e * element, element).CopyTo(lane);
        }
    }

    private void ApplyMaskToMemory(ContextBlock* c, in Instruction ins, Span<byte> bytes)
    {
        int element = ElementSize(ins);
        Span<byte> old = stackalloc byte[bytes.Length];
        memory.Read(GuestValues.Address(c, ins), old);
        Span<byte> maskValue = stackalloc byte[8];
        GuestValues.Read(c, ins.OpMask, maskValue);
        ulong mask = BinaryPrimitives.ReadUInt64LittleEndian(maskValue);
        for (int e = 0; e * element < bytes.Length; e++)
            if (((mask >> e) & 1) == 0) old.Slice(e * element, Math.Min(element, bytes.Length - e * element)).CopyTo(bytes[(e * element)..]);
    }

    private static int ElementSize(in Instruction ins)
    {
        int element = ins.Code.ToOpCode().MemorySize.GetElementSize();
        return element is > 0 and <= 64 ? element : 1;
    }

    // Per instruction address and code: its operands' roles and its rule, worked out once (Iced's
    // analysis per execution was a tenth of the propagating mode's time).
    private readonly Dictionary<(ulong Ip, Code Code), (int[] Sources, bool WritesFirst)> _operands = new();
    private readonly Dictionary<(ulong Ip, Code Code), PropagationRule> _rules = new();

    private PropagationRule RuleOf(in Instruction ins)
    {
        if (!_rules.TryGetValue((ins.IP, ins.Code), out PropagationRule rule)) _rules[(ins.IP, ins.Code)] = rule = PropagationRules.Of(ins);
        return rule;
    }

    /// <summary>The operands an instruction reads (explicit ones), and its destination (operand 0 when written).</summary>
    private (int[] Sources, bool WritesFirst) Operands(in Instruction ins)
    {
        if (_operands.TryGetValue((ins.IP, ins.Code), out var known)) return known;
        return _operands[(ins.IP, ins.Code)] = AnalyzeOperands(ins);
    }

    private (int[] Sources, bool WritesFirst) AnalyzeOperands(in Instruction ins)
    {
        InstructionInfo info = _info.GetInfo(ins);
        var sources = new List<int>(3);
        for (int op = 0; op < ins.OpCount; op++)
            if (info.GetOpAccess(op) is OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite) sources.Add(op);
        bool writes = ins.OpCount > 0 && info.GetOpAccess(0) is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite;
        return (sources.ToArray(), writes);
    }

    private void SetFlags(ContextBlock* c, in Instruction ins, bool resultUndefined, bool carryIn = false)
    {
        ulong written = (ulong)ins.RflagsWritten & ShadowRegisters.StatusFlags;
        ulong modified = (ulong)ins.RflagsModified & ShadowRegisters.StatusFlags;
        if (modified == 0) return;
        ulong flags = ShadowRegisters.Flags(c) & ~modified;
        if (resultUndefined || carryIn) flags |= written;
        ShadowRegisters.SetFlags(c, flags);
    }

    private static bool Any(ReadOnlySpan<byte> shadow) => shadow.ContainsAnyExcept((byte)0);

    // ---- rules ----

    private void DefineOutputs(ContextBlock* c, in Instruction ins)
    {
        foreach (UsedRegister used in _info.GetInfo(ins).GetUsedRegisters())
            if (used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite) ShadowRegisters.Define(c, used.Register);
        foreach (UsedMemory used in _info.GetInfo(ins).GetUsedMemory())
            if (used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite && TryAddress(c, used, out ulong a))
                memory.Define(a, (ulong)Math.Max(1, used.MemorySize.GetSize()));
        SetFlags(c, ins, false);
    }

    private void Move(ContextBlock* c, in Instruction ins, bool signExtend)
    {
        if (ins.OpCount < 2) { Pessimistic(c, ins); return; }
        int source = ins.OpCount - 1;
        Span<byte> shadow = stackalloc byte[64];
        ReadOperand(c, ins, source, shadow);
        int size = OperandSize(ins, source);
        if (signExtend && size < 64 && (shadow[size - 1] & 0x80) != 0) shadow[size..].Fill(0xff);
        WriteOperand(c, ins, 0, shadow);
    }

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

    private void Bitwise(ContextBlock* c, in Instruction ins, PropagationRule rule)
    {
        (int[] sources, bool writes) = Operands(ins);
        if (ins.OpCount == 1)   // not
        {
            Span<byte> only = stackalloc byte[64];
            ReadOperand(c, ins, 0, only);
            WriteOperand(c, ins, 0, only);
            return;
        }
        int a = ins.OpCount == 3 ? 1 : 0, b = ins.OpCount == 3 ? 2 : 1;
        int size = OperandSize(ins, 0);
        Span<byte> sa = stackalloc byte[64], sb = stackalloc byte[64], va = stackalloc byte[64], vb = stackalloc byte[64], result = stackalloc byte[64];
        bool same = ins.GetOpKind(a) == OpKind.Register && ins.GetOpKind(b) == OpKind.Register && ins.GetOpRegister(a) == ins.GetOpRegister(b);
        if (same && rule is PropagationRule.Xor or PropagationRule.AndNot)
        {
            // xor r,r / pxor x,x / pandn x,x: defined zero whatever was there.
            result.Clear();
            WriteOperand(c, ins, 0, result[..size]);
            SetFlags(c, ins, false);
            return;
        }
        ReadOperand(c, ins, a, sa);
        ReadOperand(c, ins, b, sb);
        if (ins.IsBroadcast) Broadcast(ins, b, sb);
        if (rule is PropagationRule.And or PropagationRule.Or or PropagationRule.AndNot && (Any(sa[..size]) || Any(sb[..size])))
        {
            ReadValue(c, ins, a, va[..size]);
            ReadValue(c, ins, b, vb[..size]);
            if (ins.IsBroadcast) Broadcast(ins, b, vb);
        }
        for (int i = 0; i < size; i++)
        {
            byte x = sa[i], y = sb[i], vx = va[i], vy = vb[i];
            if (rule == PropagationRule.AndNot) vx = (byte)~vx;
            result[i] = rule switch
            {
                PropagationRule.And or PropagationRule.AndNot => (byte)((x | y) & (x | vx) & (y | vy)),
                PropagationRule.Or => (byte)((x | y) & (x | ~vx) & (y | ~vy)),
                _ => (byte)(x | y),
            };
        }
        if (writes && ins.Mnemonic != Mnemonic.Test) WriteOperand(c, ins, 0, result[..size]);
        SetFlags(c, ins, Any(result[..size]));
        if (rule == PropagationRule.And && size <= 8 && Any(result[..size]))
        {
            // A result bit defined as 1 (both inputs defined 1) makes ZF defined: "not zero".
            for (int i = 0; i < size; i++)
                if ((va[i] & vb[i] & ~(sa[i] | sb[i]) & 0xff) != 0) { DefineZeroFlag(c, ins); break; }
        }
    }

    /// <summary>
    /// ZF of a compare (or and/test) whose operands already differ in a defined bit is defined,
    /// whatever the undefined bits: Valgrind's exact equality. Compilers compare several bytes at
    /// once (a word of a string against a constant) with the bytes past its end undefined.
    /// </summary>
    private static void DefineZeroFlag(ContextBlock* c, in Instruction ins)
    {
        if (((ulong)ins.RflagsModified & (ulong)RflagsBits.ZF) != 0) ShadowRegisters.Flags(c) &= ~(ulong)RflagsBits.ZF;
    }

    private static void Broadcast(in Instruction ins, int op, Span<byte> shadow)
    {
        if (ins.GetOpKind(op) != OpKind.Memory) return;
        int element = ins.MemorySize.GetElementSize();
        for (int i = element; i + element <= shadow.Length; i += element) shadow[..element].CopyTo(shadow[i..]);
    }

    private void Arith(ContextBlock* c, in Instruction ins)
    {
        if (ins.OpCount == 1 && ins.Mnemonic == Mnemonic.Imul) { Pessimistic(c, ins); return; }
        (int[] sources, bool writes) = Operands(ins);
        int size = Math.Min(8, OperandSize(ins, 0));
        ulong union = 0;
        if (ins.Mnemonic == Mnemonic.Lea)
        {
            union = (ins.MemoryBase.IsGPR() ? RegisterShadow(c, ins.MemoryBase) : 0) | (ins.MemoryIndex.IsGPR() ? RegisterShadow(c, ins.MemoryIndex) : 0);
            sources = [];
        }
        bool sub = ins.Mnemonic is Mnemonic.Sub or Mnemonic.Sbb;
        if (sub && ins.OpCount == 2 && ins.GetOpKind(0) == OpKind.Register && ins.GetOpKind(1) == OpKind.Register && ins.GetOpRegister(0) == ins.GetOpRegister(1)
            && ins.Mnemonic == Mnemonic.Sub)
        {
            WriteOperand(c, ins, 0, stackalloc byte[8]);   // sub r,r: defined zero
            SetFlags(c, ins, false);
            return;
        }
        Span<byte> shadow = stackalloc byte[64];
        foreach (int op in sources)
        {
            ReadOperand(c, ins, op, shadow);
            union |= BinaryPrimitives.ReadUInt64LittleEndian(shadow);
        }
        bool carryIn = ((ulong)ins.RflagsRead & ShadowRegisters.Flags(c)) != 0;
        ulong mask = size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
        union &= mask;
        ulong result = (carryIn ? mask : union | (0 - union)) & mask;   // Valgrind's Left: a carry reaches every higher bit
        if (writes && ins.Mnemonic != Mnemonic.Cmp)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(shadow, result);
            WriteOperand(c, ins, 0, shadow[..size]);
        }
        SetFlags(c, ins, result != 0, carryIn);
        if (result != 0 && !carryIn && ins.Mnemonic is Mnemonic.Cmp or Mnemonic.Sub && sources.Length == 2)
        {
            Span<byte> va = stackalloc byte[8], vb = stackalloc byte[8];
            ReadValue(c, ins, sources[0], va[..size]);
            ReadValue(c, ins, sources[1], vb[..size]);
            ulong differ = (BinaryPrimitives.ReadUInt64LittleEndian(va) ^ BinaryPrimitives.ReadUInt64LittleEndian(vb)) & ~union & mask;
            if (differ != 0) DefineZeroFlag(c, ins);
        }
    }

    private ulong RegisterShadow(ContextBlock* c, Register register)
    {
        Span<byte> shadow = stackalloc byte[8];
        ShadowRegisters.Read(c, register, shadow);
        return BinaryPrimitives.ReadUInt64LittleEndian(shadow);
    }

    private void Shift(ContextBlock* c, in Instruction ins)
    {
        bool threeOperand = ins.Mnemonic is Mnemonic.Shlx or Mnemonic.Shrx or Mnemonic.Sarx or Mnemonic.Rorx;
        int source = threeOperand ? 1 : 0;
        int size = Math.Min(8, OperandSize(ins, 0));
        int bits = 8 * size;
        ulong mask = bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;
        ulong shadow = OperandShadow(c, ins, source) & mask;
        int count;
        bool countUndefined = false;
        int countOp = threeOperand ? 2 : 1;
        if (ins.OpCount <= countOp) count = 1;   // shl r, 1 forms without an operand
        else if (ins.GetOpKind(countOp) == OpKind.Register)
        {
            Register r = ins.GetOpRegister(countOp);
            countUndefined = ShadowRegisters.IsUndefined(c, r);
            count = (int)(GuestValues.Gpr(c, r) & (ulong)(bits == 64 ? 63 : 31));
        }
        else count = (int)(ins.GetImmediate(countOp) & (ulong)(bits == 64 ? 63 : 31));
        ulong result;
        if (countUndefined) result = mask;
        else
        {
            int n = count % bits;
            result = ins.Mnemonic switch
            {
                Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shlx => shadow << count,
                Mnemonic.Shr or Mnemonic.Shrx => shadow >> count,
                Mnemonic.Sar or Mnemonic.Sarx => (ulong)((long)(shadow << (64 - bits)) >> (64 - bits) >> count),
                Mnemonic.Rol => n == 0 ? shadow : (shadow << n) | (shadow >> (bits - n)),
                _ => n == 0 ? shadow : (shadow >> n) | (shadow << (bits - n)),   // ror, rorx
            } & mask;
        }
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, result);
        WriteOperand(c, ins, 0, bytes[..size]);
        if (count != 0 || countUndefined) SetFlags(c, ins, result != 0 || countUndefined);
    }

    private ulong OperandShadow(ContextBlock* c, in Instruction ins, int op)
    {
        Span<byte> shadow = stackalloc byte[64];
        ReadOperand(c, ins, op, shadow);
        return BinaryPrimitives.ReadUInt64LittleEndian(shadow);
    }

    private void SignFill(ContextBlock* c, in Instruction ins)
    {
        (Register from, Register to, bool whole) = ins.Mnemonic switch
        {
            Mnemonic.Cbw => (Register.AL, Register.AX, false),
            Mnemonic.Cwde => (Register.AX, Register.EAX, false),
            Mnemonic.Cdqe => (Register.EAX, Register.RAX, false),
            Mnemonic.Cwd => (Register.AX, Register.DX, true),
            Mnemonic.Cdq => (Register.EAX, Register.EDX, true),
            _ => (Register.RAX, Register.RDX, true),
        };
        Span<byte> shadow = stackalloc byte[8];
        ShadowRegisters.Read(c, from, shadow);
        bool top = (shadow[from.GetSize() - 1] & 0x80) != 0;
        if (whole) shadow.Fill(top ? (byte)0xff : (byte)0);
        else if (top) shadow[from.GetSize()..].Fill(0xff);
        ShadowRegisters.Write(c, to, shadow[..to.GetSize()], false);
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

    /// <summary>
    /// bt/bts/btr/btc with an immediate or a defined register bit index into a register or an
    /// immediate index into memory (a register index into memory addresses a bit string: pessimistic).
    /// </summary>
    private void BitTest(ContextBlock* c, in Instruction ins)
    {
        bool registerIndex = ins.GetOpKind(1) == OpKind.Register;
        if (registerIndex && (ins.GetOpKind(0) == OpKind.Memory || ShadowRegisters.IsUndefined(c, ins.GetOpRegister(1)))) { Pessimistic(c, ins); return; }
        int size = Math.Min(8, OperandSize(ins, 0));
        Span<byte> index = stackalloc byte[8], shadow = stackalloc byte[8];
        ReadValue(c, ins, 1, index);
        int bit = (int)(BinaryPrimitives.ReadUInt64LittleEndian(index) % (ulong)(8 * size));
        shadow.Clear();
        ReadOperand(c, ins, 0, shadow);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(shadow);
        bool testedUndefined = ((value >> bit) & 1) != 0;
        if (ins.Mnemonic is Mnemonic.Bts or Mnemonic.Btr)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(shadow, value & ~(1UL << bit));
            WriteOperand(c, ins, 0, shadow[..size]);
        }
        SetFlags(c, ins, testedUndefined);
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

    private void Scan(ContextBlock* c, in Instruction ins, bool forward)
    {
        int size = Math.Min(8, OperandSize(ins, 1));
        int bits = 8 * size;
        ulong shadow = OperandShadow(c, ins, 1);
        Span<byte> valueBytes = stackalloc byte[8];
        ReadValue(c, ins, 1, valueBytes[..size]);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(valueBytes);
        bool undefined = false;
        if (shadow != 0)
        {
            // Defined when every bit up to the first defined 1 (from the scanned end) is defined.
            undefined = true;
            for (int i = 0; i < bits; i++)
            {
                int bit = forward ? i : bits - 1 - i;
                if (((shadow >> bit) & 1) != 0) break;
                if (((value >> bit) & 1) != 0) { undefined = false; break; }
            }
        }
        Span<byte> result = stackalloc byte[8];
        result.Fill(undefined ? (byte)0xff : (byte)0);
        WriteOperand(c, ins, 0, result[..OperandSize(ins, 0)]);
        SetFlags(c, ins, undefined);
    }

    private void MoveIfCondition(ContextBlock* c, in Instruction ins)
    {
        Span<byte> shadow = stackalloc byte[64];
        bool taken = ConditionHolds(ins.ConditionCode, c->Rflags);
        ReadOperand(c, ins, taken ? 1 : 0, shadow);
        // A 32-bit cmov zeroes the upper half even when it does not move.
        WriteOperand(c, ins, 0, shadow[..OperandSize(ins, 0)]);
    }

    private static bool ConditionHolds(ConditionCode condition, ulong rflags)
    {
        bool cf = (rflags & 1) != 0, pf = (rflags & 4) != 0, zf = (rflags & 0x40) != 0, sf = (rflags & 0x80) != 0, of = (rflags & 0x800) != 0;
        return condition switch
        {
            ConditionCode.o => of, ConditionCode.no => !of, ConditionCode.b => cf, ConditionCode.ae => !cf,
            ConditionCode.e => zf, ConditionCode.ne => !zf, ConditionCode.be => cf || zf, ConditionCode.a => !cf && !zf,
            ConditionCode.s => sf, ConditionCode.ns => !sf, ConditionCode.p => pf, ConditionCode.np => !pf,
            ConditionCode.l => sf != of, ConditionCode.ge => sf == of, ConditionCode.le => zf || sf != of, _ => !zf && sf == of,
        };
    }

    private void Exchange(ContextBlock* c, in Instruction ins)
    {
        Span<byte> a = stackalloc byte[64], b = stackalloc byte[64];
        ReadOperand(c, ins, 0, a);
        ReadOperand(c, ins, 1, b);
        int size = OperandSize(ins, 0);
        WriteOperand(c, ins, 0, b[..size]);
        WriteOperand(c, ins, 1, a[..size]);
    }

    private void ExchangeAdd(ContextBlock* c, in Instruction ins)
    {
        int size = Math.Min(8, OperandSize(ins, 0));
        ulong a = OperandShadow(c, ins, 0), b = OperandShadow(c, ins, 1);
        ulong mask = size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
        ulong union = (a | b) & mask, sum = (union | (0 - union)) & mask;
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, a);
        WriteOperand(c, ins, 1, bytes[..size]);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, sum);
        WriteOperand(c, ins, 0, bytes[..size]);
        SetFlags(c, ins, sum != 0);
    }

    private void Push(ContextBlock* c, in Instruction ins)
    {
        int size = ins.StackPointerIncrement < 0 ? -ins.StackPointerIncrement : 8;
        // A pushed register or memory operand keeps its shadow (an undefined value saved and
        // restored by push/pop stays undefined); a return address, an immediate or the flags are defined.
        if (ins.FlowControl == FlowControl.Next && ins.OpCount == 1 && ins.GetOpKind(0) is OpKind.Register or OpKind.Memory && size <= 8)
        {
            Span<byte> shadow = stackalloc byte[8];
            ReadOperand(c, ins, 0, shadow);
            memory.Write(c->Rsp - (ulong)size, shadow[..size]);
            return;
        }
        memory.Define(c->Rsp - (ulong)size, (ulong)size);
    }

    private void Pop(ContextBlock* c, in Instruction ins)
    {
        if (ins.OpCount != 1 || ins.GetOpKind(0) != OpKind.Register) { Pessimistic(c, ins); return; }
        Register r = ins.GetOpRegister(0);
        Span<byte> shadow = stackalloc byte[8];
        memory.Read(c->Rsp, shadow[..r.GetSize()]);
        ShadowRegisters.Write(c, r, shadow[..r.GetSize()], false);
    }

    private void StringOp(ContextBlock* c, in Instruction ins)
    {
        int element = ins.Mnemonic switch
        {
            Mnemonic.Movsb or Mnemonic.Stosb or Mnemonic.Lodsb => 1,
            Mnemonic.Movsw or Mnemonic.Stosw or Mnemonic.Lodsw => 2,
            Mnemonic.Movsd or Mnemonic.Stosd or Mnemonic.Lodsd => 4,
            _ => 8,
        };
        ulong count = ins.HasRepPrefix || ins.HasRepePrefix || ins.HasRepnePrefix ? c->Rcx : 1;
        bool down = (c->Rflags & 0x400) != 0;
        ulong bytes = count * (ulong)element;
        if (bytes == 0) return;
        ulong rsi = c->Rsi, rdi = c->Rdi;
        ulong sourceLow = down ? rsi + (ulong)element - bytes : rsi, targetLow = down ? rdi + (ulong)element - bytes : rdi;
        Span<byte> chunk = stackalloc byte[256];
        switch (ins.Mnemonic)
        {
            case Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq:
                memory.Read(down ? sourceLow : rsi + bytes - (ulong)element, chunk[..element]);
                ShadowRegisters.Write(c, element switch { 1 => Register.AL, 2 => Register.AX, 4 => Register.EAX, _ => Register.RAX }, chunk[..element], false);
                return;
            case Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or Mnemonic.Stosq:
                Span<byte> value = stackalloc byte[8];
                ShadowRegisters.Read(c, Register.RAX, value);
                if (!Any(value[..element])) { memory.Define(targetLow, bytes); return; }
                for (ulong done = 0; done < bytes; done += (ulong)element) memory.Write(targetLow + done, value[..element]);
                return;
            default:   // movs: as memmove of the shadow
                for (ulong done = 0; done < bytes;)
                {
                    int n = (int)Math.Min((ulong)chunk.Length, bytes - done);
                    ulong offset = down ? bytes - done - (ulong)n : done;
                    memory.Read(sourceLow + offset, chunk[..n]);
                    memory.Write(targetLow + offset, chunk[..n]);
                    done += (ulong)n;
                }
                return;
        }
    }

    /// <summary>Any undefined input bit makes every output undefined; all-defined inputs define the outputs.</summary>
    private void Pessimistic(ContextBlock* c, in Instruction ins)
    {
        InstructionInfo info = _info.GetInfo(ins);
        bool undefined = ((ulong)ins.RflagsRead & ShadowRegisters.Flags(c)) != 0;
        foreach (UsedRegister used in info.GetUsedRegisters())
            if (!undefined && used.Access is OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite
                && used.Register != Register.RSP)
                undefined = ShadowRegisters.IsUndefined(c, used.Register);
        Span<byte> shadow = stackalloc byte[64];
        foreach (UsedMemory used in info.GetUsedMemory())
        {
            if (undefined || used.Access is not (OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite)) continue;
            int size = Math.Min(64, Math.Max(1, used.MemorySize.GetSize()));
            if (TryAddress(c, used, out ulong a))
            {
                memory.Read(a, shadow[..size]);
                undefined = Any(shadow[..size]);
            }
        }
        shadow.Fill(undefined ? (byte)0xff : (byte)0);
        foreach (UsedRegister used in info.GetUsedRegisters())
            if (used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite && used.Register != Register.RSP)
            {
                if (undefined) ShadowRegisters.Write(c, used.Register, shadow[..Math.Min(64, Math.Max(1, used.Register.GetSize()))], ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX);
                else ShadowRegisters.Write(c, used.Register, stackalloc byte[Math.Min(64, Math.Max(1, used.Register.GetSize()))], ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX);
            }
        foreach (UsedMemory used in info.GetUsedMemory())
        {
            if (used.Access is not (OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite)) continue;
            ulong size = (ulong)Math.Max(1, used.MemorySize.GetSize());
            if (!TryAddress(c, used, out ulong a)) continue;
            if (!undefined) memory.Define(a, size);
            else for (ulong done = 0; done < size; done += 64) memory.Write(a + done, shadow[..(int)Math.Min(64, size - done)]);
        }
        SetFlags(c, ins, undefined);
    }

    private static bool TryAddress(ContextBlock* c, UsedMemory used, out ulong address)
    {
        if (used.Index.IsXMM() || used.Index.IsYMM() || used.Index.IsZMM()) { address = 0; return false; }
        return used.TryGetVirtualAddress(0, out address, (Register register, int _, int _, out ulong value) =>
        {
            value = register switch
            {
                Register.FS => c->GuestFsBase,
                Register.GS => c->GuestGsBase,
                Register.ES or Register.CS or Register.SS or Register.DS or Register.RIP or Register.EIP => 0,
                _ when register.IsGPR() => GuestValues.Gpr(c, register),
                _ => 0,
            };
            return true;
        });
    }
}
