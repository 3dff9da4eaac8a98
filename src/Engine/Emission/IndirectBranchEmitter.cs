using Checker.Engine.CodeCache;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>
/// The indirect-branch lookup, inlined at every indirect jmp/call and ret: each site gets its own
/// final indirect jump, so the CPU predicts targets per site (one shared jump mispredicted on
/// almost every return). Entered with the target in rcx and the guest's rcx in IblSaveRcx.
/// The slot's word is the key and the entry in one (<see cref="IndirectBranchTable"/>), checked
/// with <c>add</c>, <c>test</c>/<c>jnz</c>, <c>cmp</c>/<c>ja</c>, only rax borrowed. At ret and
/// indirect call the flags are dead (no calling convention passes flags across them). At an
/// indirect jmp (switch tables, computed goto) they may be live: the site saves them first
/// (<c>lahf; seto al</c> into IblSaveFlags, three instructions), and restores them when the target
/// fragment's code may read them before writing them (its table word names its
/// <see cref="MarkerSize"/> byte, an odd address), as the jmp's miss routine does. The flag-free lookup this replaced (rdx borrowed too, two jrcxz)
/// cost python 9% of its `--tool none` run, sqlite 4%.
/// A miss jumps to a shared routine that probes the table's victim table, then leaves the cache
/// for the dispatcher.
/// </summary>
public static class IndirectBranchEmitter
{
    // The sequence is position-independent but for the rel32 of the miss jump, so each variant is
    // encoded once and copied: encoding it per site was a large part of translation time.
    private static readonly Dictionary<(ulong, ulong, bool, bool, int), (byte[] Bytes, int MissField, ulong MissTarget)> Templates = new();

    /// <summary>
    /// The lookup in <paramref name="tableAddress"/>, the table of the site's translation
    /// <paramref name="mode"/>; a miss names its victim table, so the miss routine probes that and
    /// the dispatcher fills the table of that mode, where the site looks next time.
    /// </summary>
    public static void EmitLookup(CodeBuffer code, ulong tableAddress, RuntimeRoutines routines, bool flagsLive, bool countLookups, int mode = 0)
    {
        var key = (tableAddress, routines.IndirectBranchMiss, flagsLive, countLookups, mode);
        if (!Templates.TryGetValue(key, out var template))
        {
            var scratch = new CodeBuffer(0);
            int field = Encode(scratch, tableAddress, routines, flagsLive, countLookups, mode);
            Templates[key] = template = (scratch.Bytes.ToArray(), field, flagsLive ? routines.IndirectBranchMissFlagsSaved : routines.IndirectBranchMiss);
        }
        int start = code.Length;
        code.Raw(template.Bytes);
        code.PatchRel32(start + template.MissField, template.MissTarget);
    }

    /// <summary>Encodes the lookup; returns the offset of the miss jump's rel32 field.</summary>
    /// <remarks>
    /// The slot's word is <c>entry - rol(pc, 16)</c> (<see cref="CodeCache.IndirectBranchTable"/>); the
    /// lookup adds <c>rol(target, 16)</c>, which gives <c>entry + D</c> with
    /// <c>D = rol(target, 16) - rol(pc, 16) = Da*2^32 + Db*2^16 + Dc</c> (Da: the difference of bits
    /// 16..47, Db: of bits 0..15, Dc: the target's bits 48..63, pc's being zero). It hits only when
    /// the target's bits 48..63 are zero and the sum is below 2^31, and then
    /// target == pc: both hash to one slot, so bits 0..15 + bits 16..31 agree mod 2^16, hence
    /// Db = -Da (mod 2^16); Da = 0 forces Db = 0 and D = 0; Da = +-1 puts D within 2^17 of +-2^32,
    /// which no entry (0x7000_0000..0x8000_0000) brings below 2^32; larger Da are further off.
    /// </remarks>
    private static int Encode(CodeBuffer code, ulong tableAddress, RuntimeRoutines routines, bool flagsLive, bool countLookups, int mode)
    {
        // A miss goes to the shared routine with the target in rcx and the victim table in eax
        // (it probes that, then leaves for the dispatcher, which fills the table of that mode).
        ulong victims = tableAddress + IndirectBranchTable.SlotCount * 8;
        code.Encode(ContextOperand.Store(ContextOffsets.IblSaveRax, Register.RAX));
        if (flagsLive)
        {
            code.Raw([0x9F]);                     // lahf
            code.Raw([0x0F, 0x90, 0xC0]);         // seto al
            code.Encode(Instruction.Create(Code.Mov_rm16_r16, WordSlot(ContextOffsets.IblSaveFlags), Register.AX));
        }
        if (countLookups)
        {
            code.Encode(ContextOperand.Load(Register.RAX, ContextOffsets.IblLookups));
            code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RAX, new MemoryOperand(Register.RAX, 1, 1)));
            code.Encode(ContextOperand.Store(ContextOffsets.IblLookups, Register.RAX));
        }
        // slot = (target + (target >> 16)) & 0xffff: see IndirectBranchTable.SlotOf.
        code.Encode(Instruction.Create(Code.VEX_Rorx_r64_rm64_imm8, Register.RAX, Register.RCX, 16));
        code.Encode(Instruction.Create(Code.Lea_r32_m, Register.EAX, new MemoryOperand(Register.RAX, Register.RCX)));
        code.Encode(Instruction.Create(Code.Movzx_r32_rm16, Register.EAX, Register.AX));
        code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RAX, new MemoryOperand(Register.None, Register.RAX, 8, (long)tableAddress, 4)));
        // rcx = rol(target, 16) (rotated back on a miss), rax = entry + D.
        code.Encode(Instruction.Create(Code.VEX_Rorx_r64_rm64_imm8, Register.RCX, Register.RCX, 48));
        code.Encode(Instruction.Create(Code.Add_r64_rm64, Register.RAX, Register.RCX));
        code.Encode(Instruction.Create(Code.Test_rm16_r16, Register.CX, Register.CX));
        code.Raw([0x75, 0x00]);   // jnz: bits 48..63 not zero
        int toMiss1 = code.Length - 1;
        code.Encode(Instruction.Create(Code.Cmp_rm64_imm32, Register.RAX, 0x7fffffff));
        code.Raw([0x77, 0x00]);   // ja: the sum is not below 2^31
        int toMiss2 = code.Length - 1;
        if (flagsLive)
        {
            // A target that may read the flags first is registered one byte early, at an odd
            // address (see MarkerSize): give them back, then jump there like the others.
            code.Raw([0xA8, 0x01]);   // test al, 1
            code.Raw([0x75, 0x02]);   // jnz: restore
            code.Raw([0xFF, 0xE0]);   // jmp rax
            code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RCX, Register.RAX));
            code.Encode(Instruction.Create(Code.Mov_r16_rm16, Register.AX, WordSlot(ContextOffsets.IblSaveFlags)));
            code.Raw([0x04, 0x7F]);   // add al, 0x7f: OF from seto's 0 or 1
            code.Raw([0x9E]);         // sahf
            code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RAX, Register.RCX));
        }
        code.Raw([0xFF, 0xE0]);   // jmp rax: the fragment's indirect entry
        code.PatchByte(toMiss1, checked((byte)(code.Length - (toMiss1 + 1))));
        code.PatchByte(toMiss2, checked((byte)(code.Length - (toMiss2 + 1))));
        code.Encode(Instruction.Create(Code.VEX_Rorx_r64_rm64_imm8, Register.RCX, Register.RCX, 16));
        code.Encode(Instruction.Create(Code.Mov_r32_imm32, Register.EAX, checked((uint)victims)));
        return JumpRel32(code, flagsLive ? routines.IndirectBranchMissFlagsSaved : routines.IndirectBranchMiss);
    }

    private static MemoryOperand WordSlot(int offset) =>
        new(Register.None, Register.None, 1, offset + ContextTls.Offset, 8, false, Register.FS);

    /// <summary>
    /// The code just before every fragment's entry, where the table's words point: guest rax and rcx
    /// back from the lookup's slots, then on into the fragment. Only lookups (and the victim probe)
    /// enter here; links and the dispatcher enter at the fragment's entry. A hit jumps here through
    /// rax, so the site's own jump needs no slot (it used to store the entry to a slot, reload rax
    /// and rcx and jump through the slot: a store-to-load forward on the path that resolves the jump).
    /// </summary>
    public static ReadOnlySpan<byte> IndirectEntry => s_indirectEntry ??= EncodeIndirectEntry();

    /// <summary>The length of <see cref="IndirectEntry"/>: two fs-relative loads with a 32-bit displacement.</summary>
    public const int IndirectEntrySize = 18;

    /// <summary>
    /// The byte before every indirect entry: a NOP (<see cref="FlagsLiveMarker"/>) before a fragment
    /// whose code may read the status flags before writing them, which the table then names at
    /// that NOP, an odd address (entries are 8-aligned, indirect entries 18 bytes before them): an
    /// indirect jmp's lookup, which overwrote the flags it saved, restores them on an odd hit; rets'
    /// and indirect calls' lookups (flags dead) run the NOP. An int3 before the others.
    /// </summary>
    public const int MarkerSize = 1;
    public const byte FlagsLiveMarker = 0x90, FlagsDeadMarker = 0xCC;

    private static byte[]? s_indirectEntry;

    private static byte[] EncodeIndirectEntry()
    {
        var code = new CodeBuffer(0);
        code.Encode(ContextOperand.Load(Register.RAX, ContextOffsets.IblSaveRax));
        code.Encode(ContextOperand.Load(Register.RCX, ContextOffsets.IblSaveRcx));
        if (code.Length != IndirectEntrySize) throw new InvalidOperationException($"the indirect entry is {code.Length} bytes");
        return code.Bytes.ToArray();
    }

    private static int JumpRel32(CodeBuffer code, ulong target)
    {
        code.Raw([0xE9]);
        int field = code.Length;
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, target));
        return field;
    }
}
