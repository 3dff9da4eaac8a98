using Checker.MemcheckTool.State;
using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// Checks of gathers and scatters (VSIB: the index is a vector, so every lane has its own address).
/// Before the instruction, inline: the base register, the active lanes (the k mask, or the sign
/// bits of an AVX2 gather's mask vector through vmovmskps/pd), the index vector and the shape go
/// to context-block slots, then a jump-and-link to the shared routine. The routine walks the active
/// lanes; a lane whose covering shadow is not all zero goes, as an ordinary access of one element,
/// through <see cref="AccessCheckRoutine"/> (which reports and resumes in the routine), so every bad
/// lane is reported at the gather's pc. Nothing here touches the flags or a guest register.
/// Definedness: a gather's undefined lane never leaves mid-loop (<see cref="CheckKinds.Deferred"/>);
/// the routine leaves once at its end, registers restored, and C# switches to the propagating mode
/// at the gather, whose re-run there skips the walk (<see cref="MemcheckSlots.VsibReplayPc"/>).
/// Prefetching gathers (AVX-512PF) access nothing and are not checked.
/// </summary>
[SupportedOSPlatform("linux")]
public static class VsibCheck
{
    /// <summary>True for a gather or scatter that really accesses memory.</summary>
    public static bool Applies(in Instruction ins) =>
        ins.IsVsib && ins.Mnemonic is not (Mnemonic.Vgatherpf0dpd or Mnemonic.Vgatherpf0dps or Mnemonic.Vgatherpf0qpd or Mnemonic.Vgatherpf0qps
            or Mnemonic.Vgatherpf1dpd or Mnemonic.Vgatherpf1dps or Mnemonic.Vgatherpf1qpd or Mnemonic.Vgatherpf1qps
            or Mnemonic.Vscatterpf0dpd or Mnemonic.Vscatterpf0dps or Mnemonic.Vscatterpf0qpd or Mnemonic.Vscatterpf0qps
            or Mnemonic.Vscatterpf1dpd or Mnemonic.Vscatterpf1dps or Mnemonic.Vscatterpf1qpd or Mnemonic.Vscatterpf1qps);

    /// <summary>The inline part, before the instruction <paramref name="ins"/>.</summary>
    /// <param name="propagating">The propagating mode's code (an undefined lane sets the pending bit in place).</param>
    public static void Emit(CodeBuffer code, in Instruction ins, AccessSiteTable sites, ulong routine, bool trackDefinedness,
        bool propagating = false)
    {
        bool write = ins.Op0Kind == OpKind.Memory;   // scatters: vpscatterdd [vsib]{k}, zmm
        Register data = write ? ins.Op1Register : ins.Op0Register;
        int element = ins.MemorySize.GetSize();
        int indexBytes = ins.IsVsib32 ? 4 : 8;
        int lanes = Math.Min(ins.MemoryIndex.Bytes() / indexBytes, data.Bytes() / element);
        int scale = ins.MemoryIndexScale;
        var access = new CheckedAccess(ins.MemoryBase, Register.None, 1, (long)ins.MemoryDisplacement64, element, write, AccessExtent.Fixed, Register.None, 0, IsRead: !write);
        // A register held in this run (gs:[HeldScratch]) is given back by the dispatcher when the final exit switches modes.
        AccessSite site = sites.Add(ins.IP, access, vsib: true);

        code.StoreSlot(MemcheckSlots.VsibSaveRax, Register.RAX);
        code.Encode(ins.MemoryBase == Register.None
            ? Instruction.Create(Code.Mov_r32_imm32, Register.EAX, 0)
            : Instruction.Create(Code.Mov_r64_rm64, Register.RAX, ins.MemoryBase));
        code.StoreSlot(MemcheckSlots.VsibBase, Register.RAX);
        if (ins.OpMask != Register.None)
            code.Encode(Instruction.Create(Code.VEX_Kmovq_r64_kr, Register.RAX, ins.OpMask));
        else
        {
            // AVX2 gathers: the mask vector is the third operand, its elements the data's size.
            Register mask = ins.Op2Register;
            bool wide = mask.IsYMM();
            code.Encode(element == 8
                ? Instruction.Create(wide ? Code.VEX_Vmovmskpd_r32_ymm : Code.VEX_Vmovmskpd_r32_xmm, Register.EAX, mask)
                : Instruction.Create(wide ? Code.VEX_Vmovmskps_r32_ymm : Code.VEX_Vmovmskps_r32_xmm, Register.EAX, mask));
        }
        code.StoreSlot(MemcheckSlots.VsibMaskBits, Register.RAX);
        code.LoadSlot(Register.RAX, MemcheckSlots.VsibSaveRax);
        code.Encode(StoreVector(ins.MemoryIndex));
        code.SetSlot32(MemcheckSlots.VsibDisplacement, (int)ins.MemoryDisplacement64);
        code.SetSlot32(MemcheckSlots.VsibShape, scale | indexBytes << 8 | element << 16 | lanes << 24);
        code.SetSlot32(MemcheckSlots.CheckSite, site.Id);
        // Lane by lane inside a routine of its own. A scatter defines the lanes it writes (else a
        // value scattered into fresh memory would read as undefined; the propagating mode's scatter
        // rule then gives them the source lanes' shadows). A gather's undefined lane: in mode 0 it
        // is recorded and the routine leaves for the propagating mode once, after its loop (a
        // leave mid-loop would abandon the registers it saved); in the propagating mode it sets
        // the pending bit, so the gather's rule runs.
        int kind = !trackDefinedness ? CheckKinds.AddressOnly
            : write ? CheckKinds.Writes
            : propagating ? CheckKinds.Reads | CheckKinds.InPlace : CheckKinds.Reads | CheckKinds.Deferred;
        code.SetSlot32(MemcheckSlots.CheckKind, kind);
        if (propagating && !write)
        {
            code.SetSlot32(MemcheckSlots.VsibPc, (int)ins.IP);
            code.SetSlot32(MemcheckSlots.VsibPc + 4, (int)(ins.IP >> 32));
        }
        JumpAndLink.Emit(code, routine);
    }

    // The index vector to gs:[VsibIndex]: VEX for xmm0-15/ymm0-15, EVEX for zmm and the upper 16.
    private static Instruction StoreVector(Register index)
    {
        MemoryOperand slot = ContextOperand.Slot(MemcheckSlots.VsibIndex);
        int number = index.Number();
        if (index.IsZMM()) return Instruction.Create(Code.EVEX_Vmovdqu64_zmmm512_k1z_zmm, slot, index);
        if (index.IsYMM()) return Instruction.Create(number < 16 ? Code.VEX_Vmovdqu_ymmm256_ymm : Code.EVEX_Vmovdqu64_ymmm256_k1z_ymm, slot, index);
        return Instruction.Create(number < 16 ? Code.VEX_Vmovdqu_xmmm128_xmm : Code.EVEX_Vmovdqu64_xmmm128_k1z_xmm, slot, index);
    }

    /// <summary>The shared routine: every active lane's element, checked as one access.</summary>
    public static ulong GenerateRoutine(CodeRegion region, ulong accessCheck, ulong exit)
    {
        var a = new Assembler(64);
        Label entry = a.CreateLabel(), loop = a.CreateLabel(), next = a.CreateLabel(), done = a.CreateLabel();
        Label qwordIndex = a.CreateLabel(), haveIndex = a.CreateLabel(), slow = a.CreateLabel();
        Label walk = a.CreateLabel(), replay = a.CreateLabel(), leave = a.CreateLabel();

        a.Label(ref entry);
        SlowPathRegisters.SaveRaxAndFlags(a, MemcheckSlots.VsibSaveRax, MemcheckSlots.VsibSaveFlags);
        a.mov(__qword_ptr.fs[MemcheckSlots.VsibSaveRcx + ContextTls.Offset], rcx);
        a.mov(__qword_ptr.fs[MemcheckSlots.VsibSaveRdx + ContextTls.Offset], rdx);
        a.mov(rax, __qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset]);
        a.mov(__qword_ptr.fs[MemcheckSlots.VsibReturn + ContextTls.Offset], rax);
        a.mov(__dword_ptr.fs[MemcheckSlots.VsibUndefined + ContextTls.Offset], 0);
        // The propagating mode re-running the gather mode 0 has just checked and left at (the same
        // execution): its lanes were walked and reported already; only the pending bit is needed.
        a.test(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], CheckKinds.InPlace);
        a.jz(walk);
        a.mov(rax, __qword_ptr.fs[MemcheckSlots.VsibReplayPc + ContextTls.Offset]);
        a.test(rax, rax);
        a.jz(walk);
        a.cmp(rax, __qword_ptr.fs[MemcheckSlots.VsibPc + ContextTls.Offset]);
        a.je(replay);
        a.Label(ref walk);
        a.xor(ecx, ecx);

        a.Label(ref loop);
        a.movzx(eax, __byte_ptr.fs[MemcheckSlots.VsibShape + 3 + ContextTls.Offset]);
        a.cmp(ecx, eax);
        a.jae(done);
        a.mov(rax, __qword_ptr.fs[MemcheckSlots.VsibMaskBits + ContextTls.Offset]);
        a.bt(rax, rcx);
        a.jnc(next);
        a.cmp(__byte_ptr.fs[MemcheckSlots.VsibShape + 1 + ContextTls.Offset], 8);
        a.je(qwordIndex);
        a.movsxd(rdx, __dword_ptr.fs[rcx * 4 + MemcheckSlots.VsibIndex + ContextTls.Offset]);
        a.jmp(haveIndex);
        a.Label(ref qwordIndex);
        a.mov(rdx, __qword_ptr.fs[rcx * 8 + MemcheckSlots.VsibIndex + ContextTls.Offset]);
        a.Label(ref haveIndex);
        a.movzx(eax, __byte_ptr.fs[MemcheckSlots.VsibShape + ContextTls.Offset]);
        a.imul(rdx, rax);
        a.add(rdx, __qword_ptr.fs[MemcheckSlots.VsibBase + ContextTls.Offset]);
        a.movsxd(rax, __dword_ptr.fs[MemcheckSlots.VsibDisplacement + ContextTls.Offset]);
        a.add(rdx, rax);
        // Past user space the access faults natively; else the covering shadow (4 bytes = 16
        // application bytes from the 4-aligned start: enough for an 8-byte element) decides.
        a.mov(rax, rdx);
        a.shr(rax, 47);
        a.jnz(next);
        a.mov(rax, rdx);
        a.shr(rax, 2);
        a.cmp(__dword_ptr.gs[rax], 0);
        a.jne(slow);
        a.jmp(next);

        a.Label(ref slow);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckAddress + ContextTls.Offset], rdx);
        a.movzx(eax, __byte_ptr.fs[MemcheckSlots.VsibShape + 2 + ContextTls.Offset]);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckSize + ContextTls.Offset], rax);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckMask + ContextTls.Offset], -1);
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckElementShift + ContextTls.Offset], 63);
        a.lea(rax, __[next]);
        a.mov(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset], rax);
        a.mov(rax, accessCheck);
        a.jmp(rax);

        a.Label(ref next);
        a.inc(ecx);
        a.jmp(loop);

        a.Label(ref replay);
        a.mov(__qword_ptr.fs[MemcheckSlots.VsibReplayPc + ContextTls.Offset], 0);
        a.bts(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], Definedness.ShadowRegisters.PendingBit);

        // Everything restored as the gather found it (LinkReturn: after the inline part); then, if a
        // lane read undefined bytes in mode 0, one exit: C# sends the thread to the propagating mode
        // at the gather.
        a.Label(ref done);
        a.mov(rax, __qword_ptr.fs[MemcheckSlots.VsibReturn + ContextTls.Offset]);
        a.mov(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset], rax);
        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.VsibSaveRdx + ContextTls.Offset]);
        a.mov(rcx, __qword_ptr.fs[MemcheckSlots.VsibSaveRcx + ContextTls.Offset]);
        a.cmp(__dword_ptr.fs[MemcheckSlots.VsibUndefined + ContextTls.Offset], 0);
        a.jne(leave);
        SlowPathRegisters.RestoreFlagsAndRax(a, MemcheckSlots.VsibSaveRax, MemcheckSlots.VsibSaveFlags);
        a.jmp(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset]);

        a.Label(ref leave);
        SlowPathRegisters.RestoreFlagsAndRax(a, MemcheckSlots.VsibSaveRax, MemcheckSlots.VsibSaveFlags);
        a.mov(__dword_ptr.fs[MemcheckSlots.ToolExitReason + ContextTls.Offset], ToolExitReasons.GatherUndefined);
        a.mov(__dword_ptr.fs[ContextOffsets.ExitId + ContextTls.Offset], ExitIds.ToolExit);
        a.jmp(exit);

        return GeneratedRoutine.Place(a, region, 0x300, entry, "the gather/scatter check routine");
    }
}
