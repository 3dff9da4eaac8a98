using System.Buffers.Binary;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The significant uses of an instruction, checked before it runs: undefined flags deciding a
/// conditional jump, an undefined register forming an
/// address, an undefined indirect jump or call target or return address, an undefined divisor,
/// an undefined count for jrcxz/loop. Each use found is reported once per site (the collector
/// counts repeats) and the value is then taken as defined, so one undefined value gives one report.
/// <para>
/// A conditional move or set and adc/sbb's carry are not uses: as in Valgrind, the flags' undefinedness
/// goes into their result (<see cref="Propagator"/>), to be reported where that result decides
/// something. Compilers make branch-free conditions of them: `a != K || b == 0` as setne; sete; or;
/// jne, where b is meaningful only when a is K (CoreCLR does so at start-up; Dr. Memory, which
/// reported such sets, was known for it).
/// </para>
/// </summary>
internal sealed unsafe class UseChecks(MemoryDefinedness memory, UseReport report, Origins? origins = null)
{
    public void Check(ContextBlock* c, in Instruction ins)
    {
        CheckAddresses(c, ins);
        ulong flags = (ulong)ins.RflagsRead & ShadowRegisters.StatusFlags;
        if (flags != 0 && ins.FlowControl == FlowControl.ConditionalBranch && (ShadowRegisters.Flags(c) & flags) != 0)
        {
            report(c, ins.IP, "a conditional jump depends on undefined flags", UninitializedUse.Condition, origins?.OfFlags ?? 0);
            ShadowRegisters.SetFlags(c, ShadowRegisters.Flags(c) & ~flags);
        }
        switch (ins.FlowControl)
        {
            case FlowControl.IndirectBranch or FlowControl.IndirectCall:
                CheckOperand(c, ins, 0, ins.FlowControl == FlowControl.IndirectCall ? "an indirect call's target" : "an indirect jump's target");
                break;
            case FlowControl.Return:
                Span<byte> shadow = stackalloc byte[8];
                memory.Read(c->Rsp, shadow);
                if (shadow.ContainsAnyExcept((byte)0))
                {
                    report(c, ins.IP, "the return address (8 bytes at the stack pointer) is undefined", UninitializedUse.Value(8), origins?.OfMemory(c->Rsp) ?? 0);
                    memory.Define(c->Rsp, 8);
                }
                break;
            case FlowControl.ConditionalBranch when ins.Mnemonic is Mnemonic.Jrcxz or Mnemonic.Jecxz or Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne:
                Register count = ins.Mnemonic == Mnemonic.Jecxz ? Register.ECX : Register.RCX;
                if (ShadowRegisters.IsUndefined(c, count))
                {
                    report(c, ins.IP, $"a conditional jump depends on an undefined count ({Name(count)})", UninitializedUse.Condition, origins?.OfRegister(count) ?? 0);
                    ShadowRegisters.Define(c, count);
                }
                break;
        }
        if (ins.Mnemonic is Mnemonic.Div or Mnemonic.Idiv) CheckOperand(c, ins, 0, "the divisor");
    }

    private void CheckAddresses(ContextBlock* c, in Instruction ins)
    {
        if (ins.Mnemonic is Mnemonic.Lea || CodeFacts.IsNop(ins)) return;
        bool hasMemory = false;
        for (int op = 0; op < ins.OpCount; op++) hasMemory |= ins.GetOpKind(op) == OpKind.Memory;
        if (hasMemory)
        {
            CheckAddressRegister(c, ins, ins.MemoryBase);
            if (!ins.IsVsib) CheckAddressRegister(c, ins, ins.MemoryIndex);
            else if (PropagationRules.Of(ins) is PropagationRule.Gather or PropagationRule.Scatter) CheckAddressIndex(c, ins);
        }
        if (ins.IsStringInstruction)
        {
            CheckAddressRegister(c, ins, ins.Op0Kind is OpKind.MemoryESRDI || ins.Op1Kind is OpKind.MemoryESRDI ? Register.RDI : Register.None);
            CheckAddressRegister(c, ins, ins.Op0Kind is OpKind.MemorySegRSI || ins.Op1Kind is OpKind.MemorySegRSI ? Register.RSI : Register.None);
        }
    }

    private void CheckAddressRegister(ContextBlock* c, in Instruction ins, Register register)
    {
        if (!register.IsGPR() || !ShadowRegisters.IsUndefined(c, register)) return;
        report(c, ins.IP, AddressRegisterMessage(register), UninitializedUse.Value(register.Bytes()), origins?.OfRegister(register) ?? 0);
        ShadowRegisters.Define(c, register);
    }

    // One string per register: most reports repeat one already made (cc1plus: 30K reports, 231
    // unique), and formatting the message anew was a third of a repeat's cost.
    private static readonly string?[] AddressRegisterMessages = new string?[(int)Register.R15 + 1];

    private static string AddressRegisterMessage(Register register) =>
        AddressRegisterMessages[(int)register] ??= $"a {register.Bytes()}-byte address register ({Name(register)}) is undefined";

    /// <summary>
    /// A gather's or scatter's index vector: an undefined element of a lane the (defined) mask selects
    /// forms an address, reported once for the instruction; those elements are then taken as defined.
    /// </summary>
    private void CheckAddressIndex(ContextBlock* c, in Instruction ins)
    {
        Register index = ins.MemoryIndex;
        Span<byte> shadow = stackalloc byte[64];
        ShadowRegisters.Read(c, index, shadow);
        if (!shadow.ContainsAnyExcept((byte)0)) return;
        (int lanes, int element, int indexBytes) = VsibLanes.Shape(ins);
        (ulong active, ulong unknown) = VsibLanes.Mask(c, ins, lanes, element);
        int first = -1;
        for (int i = 0; i < lanes; i++)
        {
            if (((active & ~unknown) >> i & 1) == 0 || !VsibLanes.IndexUndefined(shadow, i, indexBytes)) continue;
            if (first < 0) first = i;
            shadow.Slice(i * indexBytes, indexBytes).Clear();
        }
        if (first < 0) return;
        report(c, ins.IP, $"a {indexBytes}-byte address index ({Name(index)} element {first}) is undefined", UninitializedUse.Value(indexBytes), origins?.OfRegister(index) ?? 0);
        ShadowRegisters.Write(c, index, shadow[..index.Bytes()], zeroUpper: false);
    }

    private void CheckOperand(ContextBlock* c, in Instruction ins, int op, string what)
    {
        switch (ins.GetOpKind(op))
        {
            case OpKind.Register:
                Register r = ins.GetOpRegister(op);
                if (!ShadowRegisters.IsUndefined(c, r)) return;
                report(c, ins.IP, $"{what} ({Name(r)}, {r.Bytes()} bytes) is undefined", UninitializedUse.Value(r.Bytes()), origins?.OfRegister(r) ?? 0);
                ShadowRegisters.Define(c, r);
                return;
            case OpKind.Memory:
                int size = ins.MemorySize.GetSize();
                ulong address = GuestValues.Address(c, ins);
                Span<byte> shadow = stackalloc byte[Math.Clamp(size, 1, 64)];
                memory.Read(address, shadow);
                if (!shadow.ContainsAnyExcept((byte)0)) return;
                report(c, ins.IP, $"{what} ({size} bytes at 0x{address:x}) is undefined", UninitializedUse.Value(size), origins?.OfMemory(address) ?? 0);
                memory.Define(address, (ulong)shadow.Length);
                return;
        }
    }

    private static string Name(Register register) => register.ToString().ToLowerInvariant();
}

/// <summary>
/// Reports an undefined value used at <paramref name="pc"/> (the thread's registers in <paramref name="context"/>);
/// <paramref name="origin"/>: an address of the undefined bytes it came from (0: not tracked).
/// </summary>
internal unsafe delegate void UseReport(ContextBlock* context, ulong pc, string what, UninitializedUse use, ulong origin);
