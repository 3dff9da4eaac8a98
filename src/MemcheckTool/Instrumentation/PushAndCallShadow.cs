using Checker.Engine.State;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.MemcheckTool.State;
using Checker.Engine.Translation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// The stack's definedness at pushes and calls (with --check-uninitialized), which write below rsp
/// without an access check:
/// <list type="bullet">
/// <item>a push defines the slot it writes (its value is a defined register in mode 0; the
/// propagating mode writes an undefined one's shadow after this);</item>
/// <item>a call defines the return address's slot and makes the callee's red zone, the 128 bytes
/// below it, undefined: a leaf function's locals live there without any rsp adjustment, as
/// Valgrind paints it at calls.</item>
/// </list>
/// Together with <see cref="StackTracking"/> (a new frame undefined, a released one defined) every
/// byte a frame reads before writing it is undefined, and every byte the program wrote is not.
/// Flag-free where the flags may be live (pext computes the shadow index); through a dead register
/// when there is one, else rax saved in the context block.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public static class PushAndCallShadow
{
    /// <summary>Four shadow bytes of undefined lanes (01 each).</summary>
    private const int UndefinedLanes = 0x55555555;

    public static bool Applies(IReadOnlyList<Instruction> block, int index) => Applies(block[index], block, index);

    /// <summary>As <see cref="Applies(IReadOnlyList{Instruction}, int)"/> with the instruction at hand (no copy out of the list per instruction).</summary>
    public static bool Applies(in Instruction ins, IReadOnlyList<Instruction> block, int index)
    {
        if (ins.FlowControl is FlowControl.Call or FlowControl.IndirectCall) return true;
        // A run of pushes (a prologue's) is defined at its first: the later ones need nothing.
        if (!IsPush(ins)) return false;
        int before = index - 1;
        while (before >= 0 && MovesRegistersOnly(block[before])) before--;
        return before < 0 || !IsPush(block[before]);
    }

    /// <summary>
    /// A register move or lea between a prologue's pushes (gcc interleaves `mov r13, rsi` with them):
    /// no memory, rsp neither moved nor written, so the pushes on either side are still one run.
    /// </summary>
    private static bool MovesRegistersOnly(in Instruction ins) =>
        ins.FlowControl == FlowControl.Next && ins.StackPointerIncrement == 0 && ins.OpCount == 2
        && ins.Op0Kind == OpKind.Register && ins.Op0Register.IsGPR() && ins.Op0Register.Full() != Register.RSP
        && (ins.Mnemonic == Mnemonic.Lea
            || ins.Mnemonic == Mnemonic.Mov && ins.Op1Kind is OpKind.Register or OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate32to64 or OpKind.Immediate64);

    private static bool IsPush(in Instruction ins) =>
        ins.Mnemonic is Mnemonic.Push or Mnemonic.Pushf or Mnemonic.Pushfq && ins.FlowControl == FlowControl.Next && ins.StackPointerIncrement is < 0 and >= -8;

    /// <summary>Before the instruction at <paramref name="index"/> (see <see cref="Applies"/>); <paramref name="free"/> is dead there or None.</summary>
    /// <param name="foreignCall">The routine for a call off the tracked stack (<see cref="ForeignStacks.GenerateCallRoutine"/>).</param>
    /// <param name="callRoutines">The shared call routines by scratch (<see cref="GenerateCallRoutines"/>).</param>
    public static void EmitBefore(CodeBuffer code, IReadOnlyList<Instruction> block, int index, Register free, ulong foreignCall, ulong[] callRoutines)
    {
        Instruction ins = block[index];
        Register scratch = free != Register.None ? free : Register.RAX;
        if (ins.FlowControl != FlowControl.Next && !ReadsBelowStackPointer(ins))
        {
            // A real call of the shared routine: its return address lands in the slot the guest's
            // call is about to write, and below it is the callee's red zone, dead at a call.
            code.Byte(0xE8);
            code.Int32(Rel32.Displacement(code.CurrentAddress + 4, callRoutines[free != Register.None ? free - Register.RAX : NoFreeRegister]));
            return;
        }
        if (ins.FlowControl != FlowControl.Next)
        {
            // The same bytes at every call with this scratch: copied, with the routine's and the return's fields patched.
            int key = (scratch - Register.RAX) | (free == Register.None ? 16 : 0);
            CodeTemplate call = CallTemplates[key] ?? RecordCall(key, scratch, free, foreignCall);
            call.CopyTo(code, [foreignCall]);
            return;
        }
        if (free == Register.None) code.StoreSlot(MemcheckSlots.StackSaveRax, Register.RAX);
        {
            // The run's slots [rsp - total, rsp), whole shadow bytes (a 2-byte push defines its neighbours' too).
            int total = 0;
            for (int i = index; i < block.Count; i++)
            {
                if (IsPush(block[i])) total += -block[i].StackPointerIncrement;
                else if (!MovesRegistersOnly(block[i])) break;
            }
            int shadowBytes = (total + 3) / 4;
            EmitIndex(code, scratch, shadowBytes * 4);
            for (int offset = 0; offset < shadowBytes;)
            {
                int width = shadowBytes - offset >= 8 ? 8 : shadowBytes - offset >= 4 ? 4 : shadowBytes - offset >= 2 ? 2 : 1;
                code.Encode(width switch
                {
                    8 => Instruction.Create(Code.Mov_rm64_imm32, Shadow(scratch, offset), 0),
                    4 => Instruction.Create(Code.Mov_rm32_imm32, Shadow(scratch, offset), 0),
                    2 => Instruction.Create(Code.Mov_rm16_imm16, Shadow(scratch, offset), 0),
                    _ => Instruction.Create(Code.Mov_rm8_imm8, Shadow(scratch, offset), 0),
                });
                offset += width;
            }
        }
        if (free == Register.None) code.LoadSlot(Register.RAX, MemcheckSlots.StackSaveRax);
    }

    /// <summary>The index of <see cref="GenerateCallRoutines"/>' variant that saves rax (no register is dead at the call).</summary>
    private const int NoFreeRegister = 16;

    /// <summary>
    /// An indirect call whose target is read from below rsp (never compiled code: only a non-leaf's
    /// dead red zone is there) would read the routine's return address: such a call paints inline.
    /// </summary>
    private static bool ReadsBelowStackPointer(in Instruction ins)
    {
        for (int i = 0; i < ins.OpCount; i++)
            if (ins.GetOpKind(i) == OpKind.Memory && ins.MemoryBase == Register.RSP && (long)ins.MemoryDisplacement64 < 0) return true;
        return false;
    }

    /// <summary>
    /// The call's shadow update as shared routines, one per scratch register (a dead one, index by
    /// register number; <see cref="NoFreeRegister"/>: rax saved in the context block), reached by a
    /// real 5-byte <c>call</c> from before the guest's call. Inline, each call site carried 130 to
    /// 150 bytes of it (cc1plus: 11 MB of its 130 MB code cache, on every call's hot path); the
    /// routine's call and ret pair up, so the CPU's return stack predicts the ret. The flags are dead
    /// at a call. Inside, rsp is the guest's minus 8 (the routine's return address sits in the
    /// guest call's return slot); off the tracked stack the return address is popped into
    /// gs:[LinkReturn] (rsp is the guest's again) and the foreign-stack routine returns there.
    /// </summary>
    public static ulong[] GenerateCallRoutines(CodeRegion region, ulong foreignCall)
    {
        var a = new Assembler(64);
        var entries = new Label[NoFreeRegister + 1];
        Label pattern = a.CreateLabel();
        for (int n = 0; n <= NoFreeRegister; n++)
        {
            entries[n] = a.CreateLabel();
            if (n == 4) continue;   // rsp is never a scratch
            bool saved = n == NoFreeRegister;
            AssemblerRegister64 s = new(saved ? Register.RAX : Register.RAX + n);
            Label foreign = a.CreateLabel();
            a.Label(ref entries[n]);
            if (saved) a.mov(__qword_ptr.fs[MemcheckSlots.StackSaveRax + ContextTls.Offset], rax);
            a.lea(s, __[rsp + 8]);
            a.cmp(s, __qword_ptr.fs[MemcheckSlots.StackLimit + ContextTls.Offset]);
            a.jb(foreign);
            a.cmp(s, __qword_ptr.fs[MemcheckSlots.StackTop + ContextTls.Offset]);
            a.jae(foreign);
            // [rsp - 136, rsp - 8) undefined, [rsp - 8, rsp) defined (rsp the guest's).
            // The flags are dead (the compares above took them): a shift, not pext with its mask's load
            // (sqlite's 55M calls: the store after it held most of the routines' 5% of the samples).
            a.lea(s, __[rsp + 8 - (int)(StackTracking.RedZone + 8)]);
            a.shr(s, 2);
            // The red zone's 32 shadow bytes in two 16-byte stores through xmm15, saved around them
            // (legacy SSE: the upper halves of ymm15/zmm15 are left as they are).
            a.movdqu(__xmmword_ptr.fs[MemcheckSlots.CallSaveXmm + ContextTls.Offset], xmm15);
            a.movdqu(xmm15, __xmmword_ptr[pattern]);
            for (int i = 0; i < (int)StackTracking.RedZone / 4; i += 16)
                a.movdqu(__xmmword_ptr.gs[s + i], xmm15);
            a.movdqu(xmm15, __xmmword_ptr.fs[MemcheckSlots.CallSaveXmm + ContextTls.Offset]);
            a.mov(__word_ptr.gs[s + (int)StackTracking.RedZone / 4], 0);
            if (saved) a.mov(rax, __qword_ptr.fs[MemcheckSlots.StackSaveRax + ContextTls.Offset]);
            a.ret();
            a.Label(ref foreign);
            if (saved) a.mov(rax, __qword_ptr.fs[MemcheckSlots.StackSaveRax + ContextTls.Offset]);
            a.pop(__qword_ptr.fs[Engine.State.ContextOffsets.LinkReturn + ContextTls.Offset]);
            a.jmp(foreignCall);
        }
        a.Label(ref pattern);
        for (int i = 0; i < 4; i++) a.dd(UndefinedLanes);
        GeneratedRoutine.Place(a, region, 0x1000, entries[0], "the call shadow routines", out AssemblerResult result);
        var addresses = new ulong[NoFreeRegister + 1];
        for (int n = 0; n <= NoFreeRegister; n++) addresses[n] = n == 4 ? 0 : result.GetLabelRIP(entries[n]);
        return addresses;
    }

    // A call's shadow update by scratch and whether rax is saved around it (foreignCall is the same for every site).
    private static readonly CodeTemplate?[] CallTemplates = new CodeTemplate?[32];

    private static CodeTemplate RecordCall(int key, Register scratch, Register free, ulong foreignCall) =>
        CallTemplates[key] = CodeTemplate.Record(foreignCall, (code, fields) =>
        {
            if (free == Register.None) code.StoreSlot(MemcheckSlots.StackSaveRax, Register.RAX);
            EmitCall(code, fields, scratch, foreignCall);
            if (free == Register.None) code.LoadSlot(Register.RAX, MemcheckSlots.StackSaveRax);
        });

    /// <summary>A call's shadow update (argument 0 of the template: the foreign-stack routine).</summary>
    private static void EmitCall(CodeBuffer code, CodeTemplate.Recorder fields, Register scratch, ulong foreignCall)
    {
        {
            // Inline on the tracked stack; off it (a coroutine's stack, an alternate signal stack) the
            // routine does the same keeping unaddressable bytes. The flags are dead at a call (no
            // calling convention passes them).
            code.Encode(Instruction.Create(Code.Cmp_r64_rm64, Register.RSP, ContextOperand.Slot(MemcheckSlots.StackLimit)));
            code.Byte(0x0F);
            code.Byte(0x82);
            int foreign1 = code.Length;
            code.Int32(0);
            code.Encode(Instruction.Create(Code.Cmp_r64_rm64, Register.RSP, ContextOperand.Slot(MemcheckSlots.StackTop)));
            code.Byte(0x0F);
            code.Byte(0x83);
            int foreign2 = code.Length;
            code.Int32(0);
            // [rsp - 136, rsp - 8) undefined, [rsp - 8, rsp) defined.
            EmitIndex(code, scratch, (int)StackTracking.RedZone + 8);
            for (int i = 0; i < (int)StackTracking.RedZone / 4; i += 4)
                code.Encode(Instruction.Create(Code.Mov_rm32_imm32, Shadow(scratch, i), UndefinedLanes));
            code.Encode(Instruction.Create(Code.Mov_rm16_imm16, Shadow(scratch, (int)StackTracking.RedZone / 4), 0));
            code.Byte(0xEB);
            int toEnd = code.Length;
            code.Byte(0);
            code.PatchInt32(foreign1, code.Length - (foreign1 + 4));
            code.PatchInt32(foreign2, code.Length - (foreign2 + 4));
            // JumpAndLink.Emit, its return point and routine marked as fields.
            code.SetSlot64(Engine.State.ContextOffsets.LinkReturn, 0);
            int returnField = code.Length - 4;
            code.Byte(0xE9);
            code.Int32(Rel32.Displacement(code.CurrentAddress + 4, foreignCall));
            fields.Relative(0);
            fields.AddressHere(returnField);
            code.PatchByte(toEnd, checked((byte)(code.Length - (toEnd + 1))));
        }
    }

    /// <summary>
    /// After <c>enter imm16, level</c> and the stack routine that painted its whole growth as a new
    /// frame: the slots it pushed (level frame pointers and rbp, [rsp + imm16, rbp + 8)) are defined
    /// again, or leave's pop would load an undefined rbp. Flag-free, through rax saved.
    /// </summary>
    public static void EmitEnterSlots(CodeBuffer code, in Instruction ins)
    {
        int locals = (int)ins.Immediate16, slots = (ins.Immediate8_2nd & 31) + 1;
        code.StoreSlot(MemcheckSlots.StackSaveRax, Register.RAX);
        code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RAX, new MemoryOperand(Register.RSP, locals)));
        code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RAX, Register.RAX, ContextOperand.Slot(MemcheckSlots.ShadowIndexMask)));
        for (int offset = 0; offset < 2 * slots; offset += 2)
            code.Encode(Instruction.Create(Code.Mov_rm16_imm16, Shadow(Register.RAX, offset), 0));
        code.LoadSlot(Register.RAX, MemcheckSlots.StackSaveRax);
    }

    /// <summary>scratch = the shadow index of rsp - <paramref name="below"/>, without touching the flags.</summary>
    private static void EmitIndex(CodeBuffer code, Register scratch, int below)
    {
        code.Encode(Instruction.Create(Code.Lea_r64_m, scratch, new MemoryOperand(Register.RSP, -below)));
        code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, scratch, scratch, ContextOperand.Slot(MemcheckSlots.ShadowIndexMask)));
    }

    private static MemoryOperand Shadow(Register scratch, int offset) =>
        new(scratch, Register.None, 1, offset, offset == 0 ? 0 : 1, false, Register.GS);
}
