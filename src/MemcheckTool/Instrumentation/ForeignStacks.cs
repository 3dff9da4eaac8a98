using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// Definedness on stacks other than the thread's tracked one (a coroutine's stack in a heap block
/// or an mmap, a signal handler's alternate stack, a thread stack the program gave pthread): their
/// addressability is whatever the memory's is, but a frame's locals must still start undefined, or
/// a read of stale bytes another frame left there passes unseen (Valgrind paints every new frame,
/// on every stack). So with definedness on:
/// <list type="bullet">
/// <item>an rsp-relative adjustment that grows the stack (sub/add/and/lea from rsp, enter; never a
/// mov/xchg/leave, which is how stacks are switched) makes the new frame undefined, up to
/// <see cref="MaxFrame"/> bytes (more is no frame);</item>
/// <item>a call makes the callee's red zone undefined and its return slot defined, as on the
/// tracked stack.</item>
/// </list>
/// Both keep unaddressable bytes unaddressable (a coroutine that overflows its heap block still
/// hits the redzone), so they run out of line, reached only when rsp is off the tracked stack.
/// </summary>
public static class ForeignStacks
{
    /// <summary>The largest growth painted as a frame (Valgrind's --max-stackframe is 2 MB).</summary>
    public const int MaxFrame = 1 << 20;

    /// <summary>Whether <paramref name="ins"/> computes rsp from rsp (a frame's own adjustment, not a switch).</summary>
    public static bool IsRelative(in Instruction ins)
    {
        if (ins.Mnemonic == Mnemonic.Enter) return true;
        if (ins.OpCount == 0 || ins.Op0Kind != OpKind.Register || ins.Op0Register != Register.RSP) return false;
        return ins.Mnemonic switch
        {
            Mnemonic.Sub or Mnemonic.Add or Mnemonic.And => true,
            Mnemonic.Lea => ins.MemoryBase == Register.RSP,
            _ => false,
        };
    }

    /// <summary>
    /// The routine a call on a foreign stack jumps and links to (rsp as before the call): [rsp - 136,
    /// rsp - 8) undefined, [rsp - 8, rsp) defined, unaddressable bytes kept.
    /// </summary>
    public static ulong GenerateCallRoutine(CodeRegion region)
    {
        var a = new Assembler(64);
        Label entry = a.CreateLabel();
        a.Label(ref entry);
        SlowPathRegisters.Save(a);
        a.lea(r8, __[rsp - (int)(StackTracking.RedZone + 8)]);
        a.shr(r8, 2);
        a.lea(rdx, __[rsp - 8]);
        a.shr(rdx, 2);
        a.mov(ecx, 0x55);
        EmitFillKeepingUnaddressable(a);
        a.lea(rdx, __[rsp]);
        a.shr(rdx, 2);
        a.xor(ecx, ecx);
        EmitFillKeepingUnaddressable(a);
        SlowPathRegisters.Restore(a);
        a.jmp(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset]);
        return GeneratedRoutine.Place(a, region, 0x200, entry, "the foreign-stack call routine");
    }

    /// <summary>
    /// In the stack routine, rsp off the tracked stack after a relative adjustment: rax the old rsp,
    /// rdx the new; a growth of at most <see cref="MaxFrame"/> bytes makes [new, old) undefined.
    /// Jumps to <paramref name="done"/>.
    /// </summary>
    internal static void EmitFrame(Assembler a, Label done)
    {
        a.cmp(rdx, rax);
        a.jae(done);
        a.mov(r8, rax);
        a.sub(r8, rdx);
        a.cmp(r8, MaxFrame);
        a.ja(done);
        a.mov(r8, rdx);
        a.shr(r8, 2);
        a.mov(rdx, rax);
        a.shr(rdx, 2);
        a.mov(ecx, 0x55);
        EmitFillKeepingUnaddressable(a);
        a.jmp(done);
    }

    /// <summary>
    /// Shadow bytes [r8, rdx) take cl's pattern (0x55 undefined, 0 defined) in every lane that is not
    /// unaddressable (11): <c>keep = 3 * (b &amp; b &gt;&gt; 1 &amp; 0x55)</c>, <c>b = b &amp; keep | pattern &amp; ~keep</c>.
    /// Uses rax, r8, r9.
    /// </summary>
    private static void EmitFillKeepingUnaddressable(Assembler a)
    {
        Label loop = a.CreateLabel(), end = a.CreateLabel();
        a.Label(ref loop);
        a.cmp(r8, rdx);
        a.jae(end);
        a.movzx(eax, __byte_ptr.gs[r8]);
        a.mov(r9d, eax);
        a.shr(r9d, 1);
        a.and(r9d, eax);
        a.and(r9d, 0x55);
        a.lea(r9d, __[r9 + r9 * 2]);
        a.and(eax, r9d);
        a.not(r9d);
        a.and(r9d, ecx);
        a.or(eax, r9d);
        a.mov(__byte_ptr.gs[r8], al);
        a.inc(r8);
        a.jmp(loop);
        a.Label(ref end);
    }
}
