using Checker.MemcheckTool.Instrumentation;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// What a propagating-mode instruction needs C# for, and what it defines without it. Its inputs
/// (registers and flags it reads, registers it writes only in part, the pending bit an undefined
/// memory read sets) decide: when none is undefined, the outputs it writes whole (a 32- or 64-bit
/// general register, a k register, all six status flags) are defined, as the C# rules would make
/// them, and the pre-check clears their dirty bits in place. cc1plus's sparse sets leave a
/// register undefined that the next instructions overwrite (mov eax, 1; mov ecx, edx; cmp...):
/// without this each of those was a C# exit.
/// <para>
/// Only where C# would agree for certain: rules that compute outputs from inputs (not x87, string,
/// gather/scatter or the no-op rules), and only when every memory read that could be undefined is
/// one the propagating mode checks (so an undefined byte sets the pending bit); reads of TLS and of
/// read-only globals are defined by <see cref="MemoryDefinedness"/>'s rule, writable globals are
/// checked (<see cref="ChecksGlobalAt"/>). Not with
/// --track-origins (origins are C#'s).
/// </para>
/// </summary>
internal sealed class DefinedOutputs
{
    private readonly MemoryAccessClassifier _classifier = new() { CheckFrames = true, CheckPops = true };

    /// <summary>Which globals the checks see (<see cref="MemoryAccessClassifier.ChecksGlobalAt"/>).</summary>
    public Func<ulong, ulong, bool>? ChecksGlobalAt
    {
        get => _classifier.ChecksGlobalAt;
        set => _classifier.ChecksGlobalAt = value;
    }

    /// <summary>Whether fs-relative accesses are checked (<see cref="MemoryAccessClassifier.ChecksTlsAt"/>).</summary>
    public Func<ulong, bool>? ChecksTlsAt
    {
        get => _classifier.ChecksTlsAt;
        set => _classifier.ChecksTlsAt = value;
    }
    // Reused per instruction (the block's analysis has Iced's lists already: no GetInfo here).
    private readonly List<CheckedAccess> _accesses = new(2);
    private readonly List<Register> _registers = new(4);

    /// <param name="Inputs">Dirty bits that send the instruction to its propagation (the pending bit included).</param>
    /// <param name="Cleared">Dirty bits of what it defines in place when the inputs are defined (0: none, the pre-check is as before).</param>
    /// <param name="Registers">The general and k registers among them (their shadow slots are zeroed too).</param>
    public readonly record struct Split(ulong Inputs, ulong Cleared, RegisterSet Registers, bool Flags);

    /// <summary>
    /// Up to 8 registers in order, one byte each (<see cref="Register"/> values fit a byte; an
    /// instruction writes at most 4 whole general or k registers): an array here was allocated at
    /// every pre-check that defines in place (GC pressure during translation).
    /// </summary>
    public readonly struct RegisterSet
    {
        private readonly ulong _bytes;
        public int Count { get; }

        private RegisterSet(ulong bytes, int count) => (_bytes, Count) = (bytes, count);

        public static RegisterSet Of(List<Register> registers)
        {
            if (registers.Count > 8) throw new InvalidOperationException("more than 8 registers written whole");
            ulong bytes = 0;
            for (int i = 0; i < registers.Count; i++) bytes |= (ulong)(byte)registers[i] << (8 * i);
            return new RegisterSet(bytes, registers.Count);
        }

        public Register this[int i] => (Register)(byte)(_bytes >> (8 * i));

        public Enumerator GetEnumerator() => new(this);

        public struct Enumerator(RegisterSet set)
        {
            private int _index = -1;
            public readonly Register Current => set[_index];
            public bool MoveNext() => ++_index < set.Count;
        }
    }

    /// <param name="usedRegisters">Iced's used registers of <paramref name="ins"/>.</param>
    /// <param name="usedMemory">Iced's used memory of <paramref name="ins"/>.</param>
    public Split Of(in Instruction ins, ulong allUses, ReadOnlySpan<UsedRegister> usedRegisters, ReadOnlySpan<UsedMemory> usedMemory)
    {
        if (!Eligible(ins, usedMemory)) return new Split(allUses, 0, default, false);
        ulong inputs = 1UL << ShadowRegisters.PendingBit, cleared = 0;
        List<Register> registers = _registers;
        registers.Clear();
        bool zeroing = IsZeroingIdiom(ins);
        foreach (UsedRegister used in usedRegisters)
        {
            if (ShadowRegisters.DirtyBit(used.Register) is not (int bit and >= 0)) continue;
            bool whole = used.Register.IsGPR64() || used.Register.IsGPR32() || used.Register.IsK();
            if (whole && (used.Access == OpAccess.Write || zeroing))
            {
                cleared |= 1UL << bit;
                if (!registers.Contains(used.Register.Full())) registers.Add(used.Register.Full());
            }
            else inputs |= 1UL << bit;
        }
        // A register both read and written whole (add eax, ebx) stays an input.
        cleared &= ~inputs;
        for (int k = registers.Count - 1; k >= 0; k--)
            if ((inputs >> ShadowRegisters.DirtyBit(registers[k]) & 1) != 0) registers.RemoveAt(k);
        ulong read = (ulong)ins.RflagsRead & ShadowRegisters.StatusFlags, modified = (ulong)ins.RflagsModified & ShadowRegisters.StatusFlags;
        bool flags = read == 0 && modified == ShadowRegisters.StatusFlags;
        if (flags) cleared |= 1UL << ShadowRegisters.FlagsBit;
        else if ((read | modified) != 0) inputs |= 1UL << ShadowRegisters.FlagsBit;
        return cleared == 0 ? new Split(allUses, 0, default, false) : new Split(inputs, cleared, RegisterSet.Of(registers), flags);
    }

    private bool Eligible(in Instruction ins, ReadOnlySpan<UsedMemory> usedMemory)
    {
        if (ins.IsVsib || ins.IsStringInstruction || ins.OpMask != Register.None || X87Shadows.Touches(ins)) return false;
        if (PropagationRules.Of(ins) is PropagationRule.None or PropagationRule.X87 or PropagationRule.String
            or PropagationRule.Gather or PropagationRule.Scatter)
            return false;
        // Every memory read that could be undefined must be checked (its undefined bytes set the pending bit).
        int unchecked_ = 0;
        foreach (UsedMemory used in usedMemory)
        {
            if (used.Access is not (OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite)) continue;
            if (used.Segment == Register.GS || used.Segment == Register.FS && !_classifier.ChecksTls(ins, used)) continue;
            if (MemoryAccessClassifier.GlobalTarget(ins, used) is ulong global && ChecksGlobalAt?.Invoke(global, ins.IP) != true) continue;
            if (used.MemorySize is MemorySize.Xsave or MemorySize.Xsave64 || used.MemorySize.GetSize() is <= 0 or > 64) return false;
            unchecked_++;
        }
        if (unchecked_ == 0) return true;
        int checkedReads = 0;
        _accesses.Clear();
        _classifier.Classify(ins, usedMemory, _accesses);
        foreach (CheckedAccess access in _accesses)
            if (access.IsRead && access.Extent == AccessExtent.Fixed) checkedReads++;
        return checkedReads == unchecked_;
    }

    /// <summary>xor/sub of a general register with itself: the result is 0 whatever the register held.</summary>
    private static bool IsZeroingIdiom(in Instruction ins) =>
        ins.Mnemonic is Mnemonic.Xor or Mnemonic.Sub && ins.OpCount == 2 && ins.Op0Kind == OpKind.Register && ins.Op1Kind == OpKind.Register
        && ins.Op0Register == ins.Op1Register && (ins.Op0Register.IsGPR32() || ins.Op0Register.IsGPR64());
}
