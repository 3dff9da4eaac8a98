using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.MemcheckTool.Instrumentation;
using Checker.MemcheckTool.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The propagating mode's fast path for the register-only instructions that reach C# most often
/// (cc1plus: and/or with an immediate on a bitfield's partly defined byte, register moves): the
/// same V-bit rules as <see cref="Propagator"/> (<see cref="RegisterRule"/> says which instructions
/// and sets the Alu* slots), without leaving the cache. Reached by jump-and-link; returns through
/// gs:[LinkReturn] with every register and the flags as they were.
/// <list type="bullet">
/// <item>and/or/xor/add/sub/cmp/test r, imm or r, r (x, y the operands' shadows within the size, vx,
/// vy their values; an immediate is defined): and (x|y)&amp;(x|vx)&amp;(y|vy), or (x|y)&amp;(x|~vx)&amp;(y|~vy),
/// xor x|y, add Valgrind's exact sum ((min sum ^ max sum) | x | y), sub/cmp its Left of x|y; the status flags they modify defined, those they
/// write undefined when the result has an undefined bit; ZF defined by a defined 1 bit of the result of
/// and/test/or/xor, or by a defined bit in which sub/cmp's operands differ (the exact equality);</item>
/// <item>a move between registers (and the zero idioms, a defined source): the source's shadow
/// bytes [0, copy), zeros to zero-to, the rest of the destination kept, its dirty bit recomputed.</item>
/// </list>
/// A clean register's shadow slot reads as zero only by its dirty bit (the slots are tested, not trusted).
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ShadowRegisterRoutine
{
    public const int Move = 0, And = 1, Or = 2, Xor = 3, Add = 4, Sub = 5;

    public static ulong Generate(CodeRegion region)
    {
        var a = new Assembler(64);
        Label entry = a.CreateLabel(), move = a.CreateLabel(), haveShadow = a.CreateLabel(), notAnd = a.CreateLabel(), notOr = a.CreateLabel();
        Label arith = a.CreateLabel(), result = a.CreateLabel(), flags = a.CreateLabel(), done = a.CreateLabel();

        a.Label(ref entry);
        SlowPathRegisters.SaveRaxAndFlags(a, MemcheckSlots.MoveSaveRax, MemcheckSlots.MoveSaveFlags);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveRcx + ContextTls.Offset], rcx);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveRdx + ContextTls.Offset], rdx);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveR8 + ContextTls.Offset], r8);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveR9 + ContextTls.Offset], r9);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveR10 + ContextTls.Offset], r10);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveR11 + ContextTls.Offset], r11);
        // As the C# exit does: the pending bit belongs to the instruction now propagated.
        a.btr(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], ShadowRegisters.PendingBit);
        a.mov(r8d, __dword_ptr.fs[MemcheckSlots.AluDestination + ContextTls.Offset]);
        a.mov(eax, __dword_ptr.fs[MemcheckSlots.AluOperation + ContextTls.Offset]);
        a.cmp(eax, Move);
        a.je(move);

        // ---- r, imm or r, r: rdx = x and r10 = y, the operands' shadows, r11 and rcx their values, within the size ----
        Label noSource = a.CreateLabel();
        a.xor(edx, edx);
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.AluDestinationBit + ContextTls.Offset]);
        a.bt(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rcx);
        a.jnc(haveShadow);
        a.mov(rdx, __qword_ptr.fs[r8 + ContextTls.Offset]);
        a.and(rdx, __qword_ptr.fs[MemcheckSlots.AluSizeMask + ContextTls.Offset]);
        a.Label(ref haveShadow);
        a.xor(r10d, r10d);
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.AluSourceBit + ContextTls.Offset]);
        a.test(ecx, ecx);
        a.js(noSource);                                           // an immediate: defined
        a.bt(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rcx);
        a.jnc(noSource);
        a.mov(r9d, __dword_ptr.fs[MemcheckSlots.AluSource + ContextTls.Offset]);
        a.mov(r10, __qword_ptr.fs[r9 + ContextTls.Offset]);
        a.and(r10, __qword_ptr.fs[MemcheckSlots.AluSizeMask + ContextTls.Offset]);
        a.Label(ref noSource);
        a.mov(r11, __qword_ptr.fs[MemcheckSlots.AluValue + ContextTls.Offset]);
        a.and(r11, __qword_ptr.fs[MemcheckSlots.AluSizeMask + ContextTls.Offset]);
        a.mov(rcx, __qword_ptr.fs[MemcheckSlots.AluImmediate + ContextTls.Offset]);   // the source's value
        a.and(rcx, __qword_ptr.fs[MemcheckSlots.AluSizeMask + ContextTls.Offset]);
        a.cmp(eax, And);
        a.jne(notAnd);
        // (x | y) & (x | vx) & (y | vy): undefined unless a defined 0 decides it.
        a.mov(r9, rdx);
        a.or(r9, r10);
        a.mov(rax, rdx);
        a.or(rax, r11);
        a.and(r9, rax);
        a.mov(rax, r10);
        a.or(rax, rcx);
        a.and(r9, rax);
        a.mov(rax, rdx);
        a.or(rax, r10);
        a.andn(rax, rax, r11);
        a.and(rax, rcx);                                          // defined 1 bits of the result: ZF defined
        a.jmp(result);
        a.Label(ref notAnd);
        a.cmp(eax, Or);
        a.jne(notOr);
        // (x | y) & (x | ~vx) & (y | ~vy): undefined unless a defined 1 decides it.
        a.mov(r9, rdx);
        a.or(r9, r10);
        a.andn(rax, rdx, r11);                                    // ~x & vx: the bits (x | ~vx) lacks
        a.andn(rcx, r10, rcx);                                    // ~y & vy
        a.or(rax, rcx);                                           // defined 1 bits of the result: ZF defined
        a.andn(r9, rax, r9);
        a.jmp(result);
        a.Label(ref notOr);
        a.cmp(eax, Xor);
        a.jne(arith);
        a.mov(r9, rdx);
        a.or(r9, r10);
        a.mov(rax, r11);
        a.xor(rax, rcx);
        a.andn(rax, r9, rax);                                     // defined 1 bits of the result: ZF defined
        a.jmp(result);
        a.Label(ref arith);
        Label leftSmear = a.CreateLabel();
        a.cmp(eax, Add);
        a.jne(leftSmear);
        // add, exactly as Propagator.ExactSum: (min sum ^ max sum) | x | y.
        a.andn(rax, rdx, r11);                                    // vx & ~x
        a.andn(r9, r10, rcx);                                     // vy & ~y
        a.add(rax, r9);
        a.mov(r9, r11);
        a.or(r9, rdx);                                            // vx | x
        a.or(rcx, r10);                                           // vy | y
        a.add(r9, rcx);
        a.xor(r9, rax);
        a.or(r9, rdx);
        a.or(r9, r10);
        a.and(r9, __qword_ptr.fs[MemcheckSlots.AluSizeMask + ContextTls.Offset]);
        a.xor(eax, eax);
        a.jmp(result);
        a.Label(ref leftSmear);
        a.or(rdx, r10);                                           // the union
        a.mov(r9, rdx);
        a.neg(r9);
        a.or(r9, rdx);                                            // Left: a carry reaches every higher bit
        a.and(r9, __qword_ptr.fs[MemcheckSlots.AluSizeMask + ContextTls.Offset]);
        a.cmp(eax, Sub);
        a.mov(eax, 0);
        a.jne(result);
        a.mov(rax, r11);
        a.xor(rax, rcx);
        a.andn(rax, rdx, rax);                                    // a defined bit where they differ: ZF defined

        // r9 = the result's shadow, rax != 0: ZF defined by the exact rules.
        a.Label(ref result);
        a.cmp(__dword_ptr.fs[MemcheckSlots.AluWrites + ContextTls.Offset], 0);
        a.je(flags);
        Label keepClean = a.CreateLabel(), destinationDirty = a.CreateLabel(), written = a.CreateLabel();
        a.xor(edx, edx);
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.AluDestinationBit + ContextTls.Offset]);
        a.bt(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rcx);
        a.jnc(keepClean);
        a.mov(rdx, __qword_ptr.fs[r8 + ContextTls.Offset]);
        a.Label(ref keepClean);
        a.mov(rcx, __qword_ptr.fs[MemcheckSlots.AluReplaceMask + ContextTls.Offset]);
        a.andn(rdx, rcx, rdx);
        a.or(rdx, r9);
        a.mov(__qword_ptr.fs[r8 + ContextTls.Offset], rdx);
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.AluDestinationBit + ContextTls.Offset]);
        a.test(rdx, rdx);
        a.jnz(destinationDirty);
        a.btr(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rcx);
        a.jmp(flags);
        a.Label(ref destinationDirty);
        a.bts(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rcx);

        // The status flags: those kept, those written undefined by an undefined result, ZF by the exact rules.
        a.Label(ref flags);
        Label flagsDone = a.CreateLabel(), flagsDirty = a.CreateLabel();
        a.mov(rcx, __qword_ptr.fs[MemcheckSlots.FlagsShadow + ContextTls.Offset]);
        a.and(rcx, __qword_ptr.fs[MemcheckSlots.AluFlagsKept + ContextTls.Offset]);
        a.test(r9, r9);
        a.jz(flagsDone);
        a.or(rcx, __qword_ptr.fs[MemcheckSlots.AluFlagsWritten + ContextTls.Offset]);
        a.test(rax, rax);
        a.jz(flagsDone);
        a.and(rcx, ~(int)RflagsBits.ZF);
        a.Label(ref flagsDone);
        a.mov(__qword_ptr.fs[MemcheckSlots.FlagsShadow + ContextTls.Offset], rcx);
        a.test(rcx, rcx);
        a.jnz(flagsDirty);
        a.btr(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], ShadowRegisters.FlagsBit);
        a.jmp(done);
        a.Label(ref flagsDirty);
        a.bts(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], ShadowRegisters.FlagsBit);
        a.jmp(done);

        // ---- register to register: qwords [0, zero-to) of the destination from the source's [0, copy) ----
        a.Label(ref move);
        Label sourceClean = a.CreateLabel(), copyLoop = a.CreateLabel(), store = a.CreateLabel(), orLoop = a.CreateLabel();
        a.mov(r9d, __dword_ptr.fs[MemcheckSlots.AluSource + ContextTls.Offset]);
        a.xor(edx, edx);                                          // 1: the source has undefined bits
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.AluSourceBit + ContextTls.Offset]);
        a.test(ecx, ecx);
        a.js(sourceClean);                                        // a zero idiom: defined zeros
        a.bt(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rcx);
        a.jnc(sourceClean);
        a.mov(edx, 1);
        a.Label(ref sourceClean);
        a.xor(eax, eax);
        a.Label(ref copyLoop);
        a.xor(ecx, ecx);
        a.test(edx, edx);
        a.jz(store);
        a.cmp(eax, __dword_ptr.fs[MemcheckSlots.AluCopy + ContextTls.Offset]);
        a.jae(store);
        a.mov(rcx, __qword_ptr.fs[r9 + rax + ContextTls.Offset]);
        a.test(eax, eax);
        a.jnz(store);
        a.and(rcx, __qword_ptr.fs[MemcheckSlots.AluSizeMask + ContextTls.Offset]);  // a copy under 8 bytes
        a.Label(ref store);
        a.mov(__qword_ptr.fs[r8 + rax + ContextTls.Offset], rcx);
        a.add(eax, 8);
        a.cmp(eax, __dword_ptr.fs[MemcheckSlots.AluZeroTo + ContextTls.Offset]);
        a.jb(copyLoop);
        // The destination's dirty bit from its whole shadow (the bytes kept included).
        Label clean = a.CreateLabel(), dirtyDone = a.CreateLabel();
        a.xor(ecx, ecx);
        a.xor(eax, eax);
        a.Label(ref orLoop);
        a.or(rcx, __qword_ptr.fs[r8 + rax + ContextTls.Offset]);
        a.add(eax, 8);
        a.cmp(eax, __dword_ptr.fs[MemcheckSlots.AluDestinationSize + ContextTls.Offset]);
        a.jb(orLoop);
        a.mov(eax, __dword_ptr.fs[MemcheckSlots.AluDestinationBit + ContextTls.Offset]);
        a.test(rcx, rcx);
        a.jz(clean);
        a.bts(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rax);
        a.jmp(dirtyDone);
        a.Label(ref clean);
        a.btr(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rax);
        a.Label(ref dirtyDone);
        // A zero idiom's flags (xor r,r; sub r,r) are defined; a move's are kept.
        a.xor(r9d, r9d);
        a.xor(eax, eax);
        a.jmp(flags);

        a.Label(ref done);
        a.mov(r11, __qword_ptr.fs[MemcheckSlots.MoveSaveR11 + ContextTls.Offset]);
        a.mov(r10, __qword_ptr.fs[MemcheckSlots.MoveSaveR10 + ContextTls.Offset]);
        a.mov(r9, __qword_ptr.fs[MemcheckSlots.MoveSaveR9 + ContextTls.Offset]);
        a.mov(r8, __qword_ptr.fs[MemcheckSlots.MoveSaveR8 + ContextTls.Offset]);
        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.MoveSaveRdx + ContextTls.Offset]);
        a.mov(rcx, __qword_ptr.fs[MemcheckSlots.MoveSaveRcx + ContextTls.Offset]);
        SlowPathRegisters.RestoreFlagsAndRax(a, MemcheckSlots.MoveSaveRax, MemcheckSlots.MoveSaveFlags);
        a.jmp(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset]);
        return GeneratedRoutine.Place(a, region, 0x500, entry, "the shadow register routine");
    }
}
