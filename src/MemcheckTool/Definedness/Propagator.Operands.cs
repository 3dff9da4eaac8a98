using System.Buffers.Binary;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>The propagator's access to an instruction's operands: their shadows, guest values, masking, flags.</summary>
internal sealed unsafe partial class Propagator
{
    // ---- operands ----

    private static int OperandSize(in Instruction ins, int op) => ins.GetOpKind(op) switch
    {
        OpKind.Register => ins.GetOpRegister(op).Bytes(),
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
                ShadowRegisters.Write(c, register, result[..register.Bytes()], zeroUpper: ins.Encoding is EncodingKind.VEX or EncodingKind.EVEX);
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
        for (int e = 0; e * element < destination.Bytes(); e++)
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
        int element = CodeFacts.MemorySize(ins).GetElementSize();
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

    private static void Broadcast(in Instruction ins, int op, Span<byte> shadow)
    {
        if (ins.GetOpKind(op) != OpKind.Memory) return;
        int element = ins.MemorySize.GetElementSize();
        for (int i = element; i + element <= shadow.Length; i += element) shadow[..element].CopyTo(shadow[i..]);
    }

    private ulong RegisterShadow(ContextBlock* c, Register register)
    {
        Span<byte> shadow = stackalloc byte[8];
        ShadowRegisters.Read(c, register, shadow);
        return BinaryPrimitives.ReadUInt64LittleEndian(shadow);
    }

    private ulong OperandShadow(ContextBlock* c, in Instruction ins, int op)
    {
        Span<byte> shadow = stackalloc byte[64];
        ReadOperand(c, ins, op, shadow);
        return BinaryPrimitives.ReadUInt64LittleEndian(shadow);
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
