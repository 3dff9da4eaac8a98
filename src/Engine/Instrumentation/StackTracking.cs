using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.Engine.Instrumentation;

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
public static class StackTracking
{
    public const ulong RedZone = 128;
    public const ulong Slack = 128;
    /// <summary>How far below the initial rsp the stack starts out unaddressable.</summary>
    public const ulong InitialUnaddressable = 1UL << 20;

    private static readonly InstructionInfoFactory Info = new();

    /// <summary>True when <paramref name="ins"/> sets rsp other than by the implicit ±8 of push/pop/call/ret.</summary>
    public static bool WritesStackPointer(in Instruction ins)
    {
        if (ins.Mnemonic is Mnemonic.Leave or Mnemonic.Enter) return true;
        if (ins.StackPointerIncrement != 0) return false;
        foreach (UsedRegister used in Info.GetInfo(ins).GetUsedRegisters())
        {
            if (used.Register is Register.RSP or Register.ESP or Register.SP &&
                used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite)
                return true;
        }
        return false;
    }

    public static void EmitBefore(CodeBuffer code) =>
        code.Encode(ContextOperand.Store(ContextOffsets.StackOldRsp, Register.RSP));

    public static void EmitAfter(CodeBuffer code, ulong routine)
    {
        // mov qword gs:[CheckReturn], resume; jmp routine (resume = right after the jmp)
        code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ContextOffsets.CheckReturn), 0));
        int immediate = code.Length - 4;
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, routine));
        code.PatchInt32(immediate, checked((int)code.CurrentAddress));
    }

    public static ulong GenerateRoutine(CodeRegion region)
    {
        var a = new Assembler(64);
        Label entry = a.CreateLabel(), done = a.CreateLabel(), grow = a.CreateLabel();
        Label fillLoop = a.CreateLabel(), fillByte = a.CreateLabel();
        const int shift = (int)(RedZone + Slack);

        a.Label(ref entry);
        SlowPathRegisters.Save(a);

        a.mov(rax, __qword_ptr.gs[ContextOffsets.StackOldRsp]);
        a.mov(rdx, rsp);
        // Both ends on the tracked stack, else it is a switch (or a switch back).
        a.cmp(rdx, __qword_ptr.gs[ContextOffsets.StackLimit]);
        a.jb(done);
        a.cmp(rdx, __qword_ptr.gs[ContextOffsets.StackTop]);
        a.jae(done);
        a.cmp(rax, __qword_ptr.gs[ContextOffsets.StackLimit]);
        a.jb(done);
        a.cmp(rax, __qword_ptr.gs[ContextOffsets.StackTop]);
        a.jae(done);
        a.sub(rax, shift);
        a.sub(rdx, shift);
        a.shr(rax, 2);   // shadow indices: whole shadow bytes (rsp is 8-aligned in practice)
        a.shr(rdx, 2);
        a.cmp(rdx, rax);
        a.je(done);
        a.jb(grow);
        // Shrank: [old, new) unaddressable.
        a.mov(r8, rax);
        a.mov(rcx, unchecked((long)ulong.MaxValue));
        a.jmp(fillLoop);
        // Grew: [new, old) addressable.
        a.Label(ref grow);
        a.mov(r8, rdx);
        a.mov(rdx, rax);
        a.xor(ecx, ecx);

        // Fill shadow bytes [r8, rdx) with rcx's pattern: bytes up to 8-alignment, then qwords.
        a.Label(ref fillLoop);
        a.cmp(r8, rdx);
        a.jae(done);
        a.test(r8b, 7);
        a.jnz(fillByte);
        a.lea(rax, __[r8 + 8]);
        a.cmp(rax, rdx);
        a.ja(fillByte);
        a.mov(__qword_ptr.fs[r8], rcx);
        a.mov(r8, rax);
        a.jmp(fillLoop);
        a.Label(ref fillByte);
        a.mov(__byte_ptr.fs[r8], cl);
        a.inc(r8);
        a.jmp(fillLoop);

        a.Label(ref done);
        SlowPathRegisters.Restore(a);
        a.jmp(__qword_ptr.gs[ContextOffsets.CheckReturn]);

        return GeneratedRoutine.Place(a, region, 0x200, entry, "the stack tracking routine");
    }
}
