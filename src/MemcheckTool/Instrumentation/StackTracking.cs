using Checker.Engine.Translation;
using Checker.MemcheckTool.State;
using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// Keeps the stack's shadow in step with rsp: addressable from <c>rsp - RedZone - Slack</c> up to
/// the top, unaddressable below, so an access beyond the top of the stack reports.
/// <para>
/// Only explicit writes of rsp are instrumented (sub/add/and/lea/mov rsp, leave, xchg):
/// push/pop/call/ret move rsp by 8 inside the 128-byte red zone, which is already addressable, and
/// the <see cref="Slack"/> below it absorbs a run of them. The next explicit adjustment (every
/// frame has one, or its caller's epilogue does) brings the shadow back in line. If pushes and
/// calls ever outrun the slack, the access checker sees an access at or above rsp - 128 hit
/// unaddressable stack and re-opens it instead of reporting (<see cref="AccessChecker"/>).
/// </para>
/// <para>
/// The instrumentation is <c>mov gs:[StackOldRsp], rsp</c> before the instruction and a
/// jump-and-link to the shared routine after it. The routine marks [new, old) addressable when
/// the stack grew and [old, new) unaddressable when it shrank (both shifted down by red zone and
/// slack, in whole shadow bytes); an rsp outside [StackLimit, StackTop) is a stack switch and
/// changes nothing.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public static class StackTracking
{
    public const ulong RedZone = 128;
    public const ulong Slack = 128;
    /// <summary>How far below the initial rsp the stack starts out unaddressable.</summary>
    public const ulong InitialUnaddressable = 1UL << 20;

    /// <summary>True when <paramref name="ins"/> sets rsp other than by the implicit ±8 of push/pop/call/ret.</summary>
    public static bool WritesStackPointer(in Instruction ins) => StackPointerWrites.IsExplicit(ins);

    /// <summary>
    /// How far above the old rsp's slack a growth re-marks: pushes and calls since the last explicit
    /// adjustment moved rsp down without marking, so the old rsp's slack is not known to be open.
    /// Marking [new - 256, old - 192) covers up to 64 bytes of them (a call and six pushes are 56);
    /// beyond that the checker re-opens the stack on first touch. Leaving this out cost sqlite
    /// 420,000 slow-path exits (a frame's locals above rsp, reached through rdi, looked closed);
    /// 128 bytes would cost python 5% in extra stores for a handful of exits.
    /// </summary>
    public const ulong GrowthCover = 64;

    /// <summary>
    /// Largest constant adjustment updated inline (in bytes). Frames of 152 to 500 bytes are common
    /// (sqlite's parser, cc1plus): at 128 they took the routine, 6M times in the sqlite bench, 5.5M
    /// in cc1plus. 512 costs at most 18 qword and 32 dword stores per site.
    /// </summary>
    public const int InlineLimit = 512;

    /// <summary>
    /// The common case, inline: <c>sub/add rsp, imm</c> (a prologue or epilogue) with imm a multiple of
    /// 4 up to <see cref="InlineLimit"/>. After the instruction: if rsp is on the tracked stack, store
    /// the new pattern over the imm / 4 shadow bytes that change, through a dead register when there
    /// is one, else through rax saved in the context block; with live flags the instruction is then
    /// undone and run again, which sets the guest's flags (the fills' compares clobbered them).
    /// False (nothing emitted) when it does not apply.
    /// </summary>
    /// <param name="relativeRoutine">
    /// The relative variant of the stack routine (<see cref="GenerateRoutine"/>), which a growth off
    /// the tracked stack jumps and links to so its frame is still made undefined; 0 when definedness is off.
    /// </param>
    /// <param name="offStack">Where a growth's path off the tracked stack waits to be emitted after the block (<see cref="EmitOffStack"/>).</param>
    public static bool TryEmitInline(CodeBuffer code, in Instruction ins, Register scratch, bool flagsDeadAfter, bool undefinedFrames, ulong relativeRoutine,
        List<OffStackGrowth> offStack)
    {
        if (ins.Op0Kind != OpKind.Register || ins.Op0Register != Register.RSP) return false;
        long delta = ins.Code switch
        {
            Code.Sub_rm64_imm8 or Code.Sub_rm64_imm32 => -(long)ins.GetImmediate(1),
            Code.Add_rm64_imm8 or Code.Add_rm64_imm32 => (long)ins.GetImmediate(1),
            _ => 0,
        };
        long size = Math.Abs(delta);
        if (size == 0 || size % 4 != 0 || size > InlineLimit) return false;
        bool grew = delta < 0;

        code.Encode(ins);
        // No dead register: borrow rax. Live flags (an epilogue's add before pops and ret, where the
        // exit keeps every flag live) are not saved: the flags of add/sub rsp, imm are a function of
        // the old rsp and imm alone, so after the fills the instruction is undone and run again
        // (sub rsp, imm ; add rsp, imm), which sets them as the guest's did. It was lahf/seto, a
        // store and a reload through the context block and add al/sahf, ~1% of python's samples.
        bool borrowRax = scratch == Register.None;
        if (borrowRax)
        {
            scratch = Register.RAX;
            code.StoreSlot(MemcheckSlots.StackSaveRax, Register.RAX);
        }
        // rel32: the fills below can outgrow a rel8's reach.
        code.Encode(Instruction.Create(Code.Cmp_r64_rm64, Register.RSP, ContextOperand.Slot(MemcheckSlots.StackLimit)));
        int toSkip1 = NearBranch(code, 0x82);
        code.Encode(Instruction.Create(Code.Cmp_r64_rm64, Register.RSP, ContextOperand.Slot(MemcheckSlots.StackTop)));
        int toSkip2 = NearBranch(code, 0x83);
        // Grew: [new, old + GrowthCover) addressable; shrank: [old, new) unaddressable;
        // both shifted down by red zone and slack.
        long first = -(long)(RedZone + Slack) - (grew ? 0 : size);
        int frame = (int)(size / 4);
        code.Encode(Instruction.Create(Code.Lea_r64_m, scratch, new MemoryOperand(Register.RSP, first)));
        code.Encode(Instruction.Create(Code.Shr_rm64_imm8, scratch, 2));
        EmitFill(code, scratch, 0, (int)((grew ? size + (long)GrowthCover : size) / 4), grew ? 0 : -1);
        // With definedness: the new frame [new, old) undefined, after the fill above, which it
        // overlaps beyond 192 bytes; a released one defined again from max(old, new - RedZone - Slack)
        // to new (pushes and calls write below rsp without touching the shadow), clear of the
        // unaddressable fill below it. The scratch's index stands for (grew ? new : old) - RedZone - Slack.
        if (undefinedFrames)
        {
            int shift = (int)((RedZone + Slack) / 4);
            if (grew) EmitFill(code, scratch, shift, frame, UndefinedPattern);
            else
            {
                int released = (int)Math.Min(size, (long)(RedZone + Slack)) / 4;
                EmitFill(code, scratch, shift + frame - released, released, 0);
            }
        }
        if (grew && undefinedFrames && relativeRoutine != 0)
        {
            // Off the tracked stack (a coroutine's, a signal handler's): the routine paints the frame
            // [rsp, rsp + size) on whatever stack this is, from out of the block's straight line.
            offStack.Add(new OffStackGrowth(toSkip1, toSkip2, code.Length, scratch, size, relativeRoutine, ins));
        }
        else
        {
            code.PatchInt32(toSkip1, code.Length - (toSkip1 + 4));
            code.PatchInt32(toSkip2, code.Length - (toSkip2 + 4));
        }
        if (borrowRax) code.LoadSlot(Register.RAX, MemcheckSlots.StackSaveRax);
        if (!flagsDeadAfter)
        {
            // rsp back to its old value and forward again: no memory is touched, and the moment's
            // lower or higher rsp only moves where a signal frame would go (below the old or new frame).
            code.Encode(Instruction.Create(grew ? Code.Add_rm64_imm32 : Code.Sub_rm64_imm32, Register.RSP, (int)size));
            code.Encode(ins);
        }
        return true;
    }

    /// <summary>
    /// A frame grown off the tracked stack, rare, taken out of the block's straight line: the two
    /// compares' jcc rel32 fields (<paramref name="Skip1"/>, <paramref name="Skip2"/>), the offset where
    /// the inline code goes on (<paramref name="Resume"/>), and what the routine needs.
    /// </summary>
    public readonly record struct OffStackGrowth(int Skip1, int Skip2, int Resume, Register Scratch, long Size, ulong Routine, Instruction Ins);

    /// <summary>
    /// The paths of <paramref name="growths"/>, here (after the block's last instruction): the old
    /// rsp for the routine, which returns straight to where the inline code goes on.
    /// </summary>
    public static void EmitOffStack(CodeBuffer code, List<OffStackGrowth> growths)
    {
        foreach (OffStackGrowth g in growths)
        {
            code.PatchRel32(g.Skip1, code.CurrentAddress);
            code.PatchRel32(g.Skip2, code.CurrentAddress);
            code.Encode(Instruction.Create(Code.Lea_r64_m, g.Scratch, new MemoryOperand(Register.RSP, g.Size)));
            code.StoreSlot(MemcheckSlots.StackOldRsp, g.Scratch);
            if (SlowPathProfile.Enabled) MarkProfileSite(code, g.Ins, "off the tracked stack");
            code.SetSlot64(Engine.State.ContextOffsets.LinkReturn, checked((int)(code.BaseAddress + (ulong)g.Resume)));
            code.Byte(0xE9);
            code.Int32(Rel32.Displacement(code.CurrentAddress + 4, g.Routine));
        }
        growths.Clear();
    }

    // Emits a jcc rel32 (0F opcode) after the compare whose displacement is patched later; returns the
    // displacement's offset. (The compare was a lambda argument: a closure allocated per frame change.)
    private static int NearBranch(CodeBuffer code, byte opcode)
    {
        code.Byte(0x0F);
        code.Byte(opcode);
        code.Int32(0);
        return code.Length - 4;
    }

    /// <summary>Four shadow bytes of undefined lanes (01 each).</summary>
    private const int UndefinedPattern = 0x55555555;

    /// <summary>Stores <paramref name="pattern"/> over <paramref name="count"/> shadow bytes from fs:[scratch + start].</summary>
    private static void EmitFill(CodeBuffer code, Register scratch, int start, int count, int pattern)
    {
        // A qword store sign-extends its imm32: only for patterns whose upper half is the same.
        bool wide = pattern is 0 or -1;
        int width = count >= 8 && wide ? 8 : count >= 4 ? 4 : count >= 2 ? 2 : 1;
        for (int offset = 0; ; offset += width)
        {
            int at = start + Math.Min(offset, count - width);   // the last store may overlap the previous one
            var shadow = new MemoryOperand(scratch, Register.None, 1, at, at == 0 ? 0 : 1, false, Register.GS);
            code.Encode(width switch
            {
                8 => Instruction.Create(Code.Mov_rm64_imm32, shadow, pattern),
                4 => Instruction.Create(Code.Mov_rm32_imm32, shadow, pattern),
                2 => Instruction.Create(Code.Mov_rm16_imm16, shadow, pattern & 0xffff),
                _ => Instruction.Create(Code.Mov_rm8_imm8, shadow, pattern & 0xff),
            });
            if (Math.Min(offset, count - width) + width >= count) break;
        }
    }

    public static void EmitBefore(CodeBuffer code) =>
        code.StoreSlot(MemcheckSlots.StackOldRsp, Register.RSP);

    public static void EmitAfter(CodeBuffer code, ulong routine, in Instruction ins)
    {
        if (SlowPathProfile.Enabled) MarkProfileSite(code, ins, "");
        JumpAndLink.Emit(code, routine);
    }

    private static void MarkProfileSite(CodeBuffer code, in Instruction ins, string note) =>
        code.SetSlot32(MemcheckSlots.ProfileSite, SlowPathProfile.AddStackSite($"0x{ins.IP:x} {ins} {note}"));

    /// <param name="relative">
    /// The variant for adjustments computed from rsp (<see cref="ForeignStacks.IsRelative"/>): off the
    /// tracked stack, with <paramref name="undefinedFrames"/>, a growth still makes its frame undefined.
    /// </param>
    public static ulong GenerateRoutine(CodeRegion region, bool undefinedFrames, bool relative = false)
    {
        var a = new Assembler(64);
        Label entry = a.CreateLabel(), done = a.CreateLabel(), grow = a.CreateLabel(), foreign = a.CreateLabel();
        const int shift = (int)(RedZone + Slack);
        Label offTracked = undefinedFrames && relative ? foreign : done;

        a.Label(ref entry);
        SlowPathRegisters.Save(a);
        if (SlowPathProfile.Enabled)
        {
            a.mov(rax, (long)SlowPathProfile.RoutineCounter(relative ? SlowPathProfile.Routine.StackAdjustRelative : SlowPathProfile.Routine.StackAdjust));
            a.inc(__qword_ptr[rax]);
            a.mov(eax, __dword_ptr.fs[MemcheckSlots.ProfileSite + ContextTls.Offset]);
            a.mov(rcx, (long)SlowPathProfile.StackBase);
            a.inc(__qword_ptr[rcx + rax * 8]);
        }

        a.mov(rax, __qword_ptr.fs[MemcheckSlots.StackOldRsp + ContextTls.Offset]);
        a.mov(rdx, rsp);
        // Both ends on the tracked stack, else another stack (a switch, a switch back, or a frame
        // on a foreign stack).
        a.cmp(rdx, __qword_ptr.fs[MemcheckSlots.StackLimit + ContextTls.Offset]);
        a.jb(offTracked);
        a.cmp(rdx, __qword_ptr.fs[MemcheckSlots.StackTop + ContextTls.Offset]);
        a.jae(offTracked);
        a.cmp(rax, __qword_ptr.fs[MemcheckSlots.StackLimit + ContextTls.Offset]);
        a.jb(offTracked);
        a.cmp(rax, __qword_ptr.fs[MemcheckSlots.StackTop + ContextTls.Offset]);
        a.jae(offTracked);
        a.shr(rax, 2);   // shadow indices: whole shadow bytes (rsp is 8-aligned in practice)
        a.shr(rdx, 2);
        a.cmp(rdx, rax);
        a.je(done);
        // The fills take the end in rdx: the new index waits in the (consumed) old-rsp slot.
        var newIndex = __qword_ptr.fs[MemcheckSlots.StackOldRsp + ContextTls.Offset];
        a.mov(newIndex, rdx);
        a.jb(grow);
        if (undefinedFrames)
        {
            // Released: [max(old, new - shift), new) defined again (pushes and calls write there
            // without touching the shadow); what lies deeper is closed below, after.
            a.lea(r8, __[rdx - shift / 4]);
            a.cmp(r8, rax);
            a.cmovb(r8, rax);
            a.xor(ecx, ecx);
            EmitFillLoop(a);
        }
        // Shrank: [old, new) - shift unaddressable.
        a.lea(r8, __[rax - shift / 4]);
        a.mov(rdx, newIndex);
        a.sub(rdx, shift / 4);
        a.mov(rcx, unchecked((long)ulong.MaxValue));
        EmitFillLoop(a);
        a.jmp(done);
        // Grew: [new, old + GrowthCover) - shift addressable (old's slack may not be: pushes since).
        a.Label(ref grow);
        a.lea(r8, __[rdx - shift / 4]);
        a.lea(rdx, __[rax - shift / 4 + (int)(GrowthCover / 4)]);
        a.xor(ecx, ecx);
        EmitFillLoop(a);
        if (undefinedFrames)
        {
            // The new frame [new, old) undefined (after the fill above, which may overlap it).
            a.mov(r8, newIndex);
            a.mov(rdx, rax);
            a.mov(rcx, 0x5555_5555_5555_5555L);
            EmitFillLoop(a);
        }
        a.jmp(done);

        if (undefinedFrames && relative)
        {
            a.Label(ref foreign);
            ForeignStacks.EmitFrame(a, done);
        }

        a.Label(ref done);
        SlowPathRegisters.Restore(a);
        a.jmp(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset]);

        return GeneratedRoutine.Place(a, region, 0x300, entry, "the stack tracking routine");
    }

    /// <summary>Fills shadow bytes [r8, rdx) with rcx's pattern: bytes up to 8-alignment, then qwords (r8 and r9 used up).</summary>
    private static void EmitFillLoop(Assembler a)
    {
        Label loop = a.CreateLabel(), oneByte = a.CreateLabel(), end = a.CreateLabel();
        a.Label(ref loop);
        a.cmp(r8, rdx);
        a.jae(end);
        a.test(r8b, 7);
        a.jnz(oneByte);
        a.lea(r9, __[r8 + 8]);
        a.cmp(r9, rdx);
        a.ja(oneByte);
        a.mov(__qword_ptr.gs[r8], rcx);
        a.mov(r8, r9);
        a.jmp(loop);
        a.Label(ref oneByte);
        a.mov(__byte_ptr.gs[r8], cl);
        a.inc(r8);
        a.jmp(loop);
        a.Label(ref end);
    }
}
