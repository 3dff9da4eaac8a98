using System.Buffers.Binary;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>Rules of the general-purpose instructions: moves, bitwise and carry arithmetic, shifts, scans, cmov, exchanges, the stack, strings, bit tests.</summary>
internal sealed unsafe partial class Propagator
{
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
        if (rule is PropagationRule.And or PropagationRule.Or or PropagationRule.AndNot or PropagationRule.Xor && (Any(sa[..size]) || Any(sb[..size])))
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
        if (rule is PropagationRule.And or PropagationRule.Or or PropagationRule.Xor && size <= 8 && Any(result[..size]))
        {
            // A result bit defined as 1 makes ZF defined, "not zero", as Valgrind's exact CmpNE decides
            // it: and's where both inputs are defined 1, or's where either is, xor's where both are
            // defined and differ. `x == K && y == 0` compiles to xor/or/jne: with x known not K, y's
            // bits do not matter (CoreCLR's startup made 58 such reports, valgrind none).
            for (int i = 0; i < size; i++)
            {
                int definedOne = rule switch
                {
                    PropagationRule.And => va[i] & vb[i] & ~(sa[i] | sb[i]),
                    PropagationRule.Or => (va[i] & ~sa[i]) | (vb[i] & ~sb[i]),
                    _ => (va[i] ^ vb[i]) & ~(sa[i] | sb[i]),
                };
                if ((definedOne & 0xff) != 0) { DefineZeroFlag(c, ins); break; }
            }
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

    private void Arith(ContextBlock* c, in Instruction ins)
    {
        if (ins.OpCount == 1 && ins.Mnemonic == Mnemonic.Imul) { Pessimistic(c, ins); return; }
        (int[] sources, bool writes) = Operands(ins);
        int size = Math.Min(8, OperandSize(ins, 0));
        if (ins.Mnemonic == Mnemonic.Lea) { Lea(c, ins, size); return; }
        if (ins.Mnemonic == Mnemonic.Add && IsSameRegisterTwice(ins))
        {
            // add r,r: Valgrind rewrites x + x as x << 1 (exact), so a field read back as (w + w) >> n
            // is as defined as its own bits, whatever the bits below it hold (GCC's bitfields).
            ulong doubled = OperandShadow(c, ins, 0) & SizeMask(size);
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (doubled << 1) & SizeMask(size));
            WriteOperand(c, ins, 0, bytes[..size]);
            SetFlags(c, ins, doubled != 0, false);
            return;
        }
        ulong union = 0;
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
        if (!carryIn && union != 0 && (ins.Mnemonic is Mnemonic.Add or Mnemonic.Adc && sources.Length == 2 || ins.Mnemonic == Mnemonic.Inc && sources.Length == 1)
            || carryIn && ins.Mnemonic == Mnemonic.Adc && sources.Length == 2)
            result = ExactSum(c, ins, sources[0], sources.Length == 2 ? sources[1] : -1, mask, carryIn);
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

    /// <summary>
    /// Valgrind's expensive interpretation of x + y (memcheck's default for a 64-bit add whose result
    /// is not only an address): the bits in which the smallest and the largest possible sums differ,
    /// and the operands' own undefined bits. A carry stops where defined bits stop it: a byte loaded
    /// with movzx plus 1 is undefined in bits 0..8 only (Left made bits 8..63 undefined too).
    /// <paramref name="x"/>, <paramref name="y"/> the shadows, <paramref name="vx"/>, <paramref name="vy"/> the values.
    /// </summary>
    internal static ulong ExactAdd(ulong x, ulong vx, ulong y, ulong vy) =>
        (((vx & ~x) + (vy & ~y)) ^ ((vx | x) + (vy | y))) | x | y;

    /// <summary>
    /// add's, inc's and adc's result shadow by <see cref="ExactAdd"/>, as VEX computes them: a + b,
    /// then + the carry (an undefined carry: a third term whose bit 0 is undefined, so adc $0 of a
    /// defined 0 is undefined in bit 0 only). <paramref name="second"/> -1: inc's implicit 1.
    /// </summary>
    private ulong ExactSum(ContextBlock* c, in Instruction ins, int first, int second, ulong mask, bool carryUndefined = false)
    {
        Span<byte> bytes = stackalloc byte[64];
        ReadOperand(c, ins, first, bytes);
        ulong x = BinaryPrimitives.ReadUInt64LittleEndian(bytes) & mask;
        ReadValue(c, ins, first, bytes[..8]);
        ulong vx = BinaryPrimitives.ReadUInt64LittleEndian(bytes) & mask;
        ulong y = 0, vy = 1;
        if (second >= 0)
        {
            ReadOperand(c, ins, second, bytes);
            y = BinaryPrimitives.ReadUInt64LittleEndian(bytes) & mask;
            ReadValue(c, ins, second, bytes[..8]);
            vy = BinaryPrimitives.ReadUInt64LittleEndian(bytes) & mask;
        }
        ulong sum = ExactAdd(x, vx, y, vy) & mask;
        if (ins.Mnemonic == Mnemonic.Adc && (carryUndefined || (c->Rflags & 1) != 0))
            sum = ExactAdd(sum, (vx + vy) & mask, carryUndefined ? 1UL : 0, c->Rflags & 1) & mask;
        return sum;
    }

    private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;

    private static bool IsSameRegisterTwice(in Instruction ins) =>
        ins.OpCount == 2 && ins.Op0Kind == OpKind.Register && ins.Op1Kind == OpKind.Register && ins.Op0Register == ins.Op1Register;

    /// <summary>
    /// lea as VEX computes it, (base + index &lt;&lt; scale) + displacement, each addition by
    /// <see cref="ExactAdd"/>: the index's shadow shifted (exact), a lone term without displacement
    /// copied, base + base as base &lt;&lt; 1 (VEX rewrites x + x as x &lt;&lt; 1).
    /// </summary>
    private void Lea(ContextBlock* c, in Instruction ins, int size)
    {
        bool hasBase = ins.MemoryBase.IsGPR(), hasIndex = ins.MemoryIndex.IsGPR();
        int scaleShift = System.Numerics.BitOperations.Log2((uint)ins.MemoryIndexScale);
        ulong shadow = 0, value = 0;
        if (hasBase && hasIndex && ins.MemoryBase == ins.MemoryIndex && scaleShift == 0)
        {
            shadow = RegisterShadow(c, ins.MemoryBase) << 1;
            value = RegisterValue(c, ins.MemoryBase) << 1;
        }
        else
        {
            if (hasBase) (shadow, value) = (RegisterShadow(c, ins.MemoryBase), RegisterValue(c, ins.MemoryBase));
            if (hasIndex)
            {
                ulong indexShadow = RegisterShadow(c, ins.MemoryIndex) << scaleShift, indexValue = RegisterValue(c, ins.MemoryIndex) << scaleShift;
                (shadow, value) = hasBase ? (ExactAdd(shadow, value, indexShadow, indexValue), value + indexValue) : (indexShadow, indexValue);
            }
        }
        if (ins.MemoryDisplacement64 != 0 && shadow != 0) shadow = ExactAdd(shadow, value, 0, ins.MemoryDisplacement64);
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, shadow & SizeMask(size));
        WriteOperand(c, ins, 0, bytes[..size]);
    }

    private static ulong RegisterValue(ContextBlock* c, Register register)
    {
        Span<byte> bytes = stackalloc byte[8];
        GuestValues.Read(c, register, bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    /// <summary>
    /// popcnt: at most 64 (32, 16) bits are set, so only the count's low 7 (6, 5) bits can depend on an
    /// undefined input bit; the rest are defined zeros (Valgrind's bit-twiddling expansion gets the same).
    /// ZF (input zero) as an and's: undefined unless a defined 1 bit decides it; the other flags cleared.
    /// </summary>
    private void PopCount(ContextBlock* c, in Instruction ins)
    {
        int size = Math.Min(8, OperandSize(ins, 0));
        ulong mask = SizeMask(size);
        ulong x = OperandShadow(c, ins, 1) & mask;
        Span<byte> bytes = stackalloc byte[8];
        ReadValue(c, ins, 1, bytes);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(bytes) & mask;
        ulong countBits = size == 8 ? 0x7FUL : size == 4 ? 0x3FUL : 0x1FUL;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, x != 0 ? countBits : 0);
        WriteOperand(c, ins, 0, bytes[..size]);
        SetFlags(c, ins, x != 0 && (v & ~x) == 0);
    }

    private void Shift(ContextBlock* c, in Instruction ins)
    {
        bool threeOperand = ins.Mnemonic is Mnemonic.Shlx or Mnemonic.Shrx or Mnemonic.Sarx or Mnemonic.Rorx;
        bool doubleShift = ins.Mnemonic is Mnemonic.Shld or Mnemonic.Shrd;   // dst, src, count: src's bits shift in
        int source = threeOperand ? 1 : 0;
        int size = Math.Min(8, OperandSize(ins, 0));
        int bits = 8 * size;
        ulong mask = bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;
        ulong shadow = OperandShadow(c, ins, source) & mask;
        ulong incoming = doubleShift ? OperandShadow(c, ins, 1) & mask : 0;
        int count;
        bool countUndefined = false;
        int countOp = threeOperand || doubleShift ? 2 : 1;
        if (ins.OpCount <= countOp) count = 1;   // shl r, 1 forms without an operand
        else if (ins.GetOpKind(countOp) == OpKind.Register)
        {
            Register r = ins.GetOpRegister(countOp);
            // Only the count's low 5 or 6 bits shift (VEX masks them: And8(cl, 31 or 63)).
            countUndefined = (RegisterShadow(c, r) & (ulong)(bits == 64 ? 63 : 31)) != 0;
            count = (int)(GuestValues.Gpr(c, r) & (ulong)(bits == 64 ? 63 : 31));
        }
        else count = (int)(ins.GetImmediate(countOp) & (ulong)(bits == 64 ? 63 : 31));
        ulong result;
        if (countUndefined || doubleShift && count >= bits) result = mask;
        else if (doubleShift)
            result = count == 0 ? shadow
                : (ins.Mnemonic == Mnemonic.Shld ? (shadow << count) | (incoming >> (bits - count)) : (shadow >> count) | (incoming << (bits - count))) & mask;
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
        bool top = (shadow[from.Bytes() - 1] & 0x80) != 0;
        if (whole) shadow.Fill(top ? (byte)0xff : (byte)0);
        else if (top) shadow[from.Bytes()..].Fill(0xff);
        ShadowRegisters.Write(c, to, shadow[..to.Bytes()], false);
    }

    /// <summary>
    /// bt/bts/btr/btc with an immediate or a defined register bit index into a register or an
    /// immediate index into memory (a register index into memory addresses a bit string: pessimistic).
    /// </summary>
    private void BitTest(ContextBlock* c, in Instruction ins)
    {
        bool registerIndex = ins.GetOpKind(1) == OpKind.Register;
        int size = Math.Min(8, OperandSize(ins, 0));
        // A register operand's bit index is taken modulo its width: only those low bits of the index
        // register matter (`mov eax, [field]; bt rcx, rax` of a byte-wide type beside undefined
        // bitfields: CoreCLR's JIT). Against memory the whole index also selects the address.
        if (registerIndex && (ins.GetOpKind(0) == OpKind.Memory || (RegisterShadow(c, ins.GetOpRegister(1)) & (ulong)(8 * size - 1)) != 0))
        {
            Pessimistic(c, ins);
            return;
        }
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

    /// <summary>Whether a flag the instruction's condition reads is undefined.</summary>
    private static bool ConditionUndefined(ContextBlock* c, in Instruction ins) => ((ulong)ins.RflagsRead & ShadowRegisters.Flags(c)) != 0;

    /// <summary>setcc: bit 0 as defined as the condition's flags, the upper seven a defined 0 (Valgrind's 1Uto8).</summary>
    private void SetCondition(ContextBlock* c, in Instruction ins)
    {
        Span<byte> shadow = stackalloc byte[1];
        shadow[0] = ConditionUndefined(c, ins) ? (byte)1 : (byte)0;
        WriteOperand(c, ins, 0, shadow);
    }

    /// <summary>
    /// cmovcc: the selected operand's shadow; with the condition undefined, the whole destination is
    /// (Valgrind's ITE: the chosen shadow, each bit made undefined by the condition's).
    /// </summary>
    private void MoveIfCondition(ContextBlock* c, in Instruction ins)
    {
        Span<byte> shadow = stackalloc byte[64];
        bool taken = ConditionHolds(ins.ConditionCode, c->Rflags);
        ReadOperand(c, ins, taken ? 1 : 0, shadow);
        if (ConditionUndefined(c, ins)) shadow.Fill(0xff);
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
        Span<byte> bytes = stackalloc byte[8];
        ReadValue(c, ins, 0, bytes);
        ulong va = BinaryPrimitives.ReadUInt64LittleEndian(bytes) & mask;
        ReadValue(c, ins, 1, bytes);
        ulong vb = BinaryPrimitives.ReadUInt64LittleEndian(bytes) & mask;
        ulong sum = ExactAdd(a & mask, va, b & mask, vb) & mask;   // as add's
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
            if (origins != null && Any(shadow[..size])) origins.Stored(c->Rsp - (ulong)size, size, _origin);   // a value passed on keeps naming its block
            return;
        }
        memory.Define(c->Rsp - (ulong)size, (ulong)size);
    }

    private void Pop(ContextBlock* c, in Instruction ins)
    {
        if (ins.OpCount != 1 || ins.GetOpKind(0) != OpKind.Register) { Pessimistic(c, ins); return; }
        Register r = ins.GetOpRegister(0);
        Span<byte> shadow = stackalloc byte[8];
        memory.Read(c->Rsp, shadow[..r.Bytes()]);
        ShadowRegisters.Write(c, r, shadow[..r.Bytes()], false);
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
                if (origins != null && bytes <= int.MaxValue) origins.Stored(targetLow, (int)bytes, origins.OfRegister(Register.RAX));
                return;
            default:   // movs: as memmove of the shadow
                for (ulong done = 0; done < bytes;)
                {
                    int n = (int)Math.Min((ulong)chunk.Length, bytes - done);
                    ulong offset = down ? bytes - done - (ulong)n : done;
                    memory.Read(sourceLow + offset, chunk[..n]);
                    memory.Write(targetLow + offset, chunk[..n]);
                    if (origins != null) CopyOrigins(sourceLow + offset, targetLow + offset, chunk[..n]);
                    done += (ulong)n;
                }
                return;
        }
    }

    /// <summary>
    /// --track-origins: undefined bytes a string move copied from <paramref name="source"/> keep
    /// naming where they came from (a struct copied by rep movsq out of a heap block; gcc copies
    /// structs so): each granule of the target with undefined bytes takes the origin of its first one.
    /// </summary>
    private void CopyOrigins(ulong source, ulong target, ReadOnlySpan<byte> shadow)
    {
        for (int i = 0; i < shadow.Length;)
        {
            if (shadow[i] == 0) { i++; continue; }
            ulong granuleEnd = ((target + (ulong)i) & ~7UL) + 8;
            int length = (int)Math.Min((ulong)(shadow.Length - i), granuleEnd - (target + (ulong)i));
            origins!.Stored(target + (ulong)i, length, origins.OfMemory(source + (ulong)i));
            i += length;
        }
    }

    // sahf/lahf: AH's bits 7, 6, 4, 2, 0 are SF, ZF, AF, PF, CF (Iced's RflagsBits, as the flags' shadow numbers them).
    private static readonly (int Bit, RflagsBits Flag)[] FlagsByteBits =
        [(7, RflagsBits.SF), (6, RflagsBits.ZF), (4, RflagsBits.AF), (2, RflagsBits.PF), (0, RflagsBits.CF)];

    /// <summary>sahf: each status flag takes its AH bit's shadow (OF kept); lahf: AH takes the flags' (its fixed bits defined).</summary>
    private void FlagsByte(ContextBlock* c, in Instruction ins)
    {
        Span<byte> ah = stackalloc byte[1];
        if (ins.Mnemonic == Mnemonic.Sahf)
        {
            ShadowRegisters.Read(c, Register.AH, ah);
            ulong flags = ShadowRegisters.Flags(c) & (ulong)RflagsBits.OF;
            foreach ((int bit, RflagsBits flag) in FlagsByteBits)
                if (((ah[0] >> bit) & 1) != 0) flags |= (ulong)flag;
            ShadowRegisters.SetFlags(c, flags);
            return;
        }
        ah[0] = 0;
        foreach ((int bit, RflagsBits flag) in FlagsByteBits)
            if ((ShadowRegisters.Flags(c) & (ulong)flag) != 0) ah[0] |= (byte)(1 << bit);
        ShadowRegisters.Write(c, Register.AH, ah, false);
    }
}
