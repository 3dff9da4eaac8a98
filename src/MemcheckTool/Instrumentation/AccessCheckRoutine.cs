using Checker.MemcheckTool.State;
using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// The shared slow path of the inline access checks, reached by jump-and-link from a site's stub
/// with the address, size, element mask and site in the context block; every register but the
/// site's scratch holds the guest's value, and the routine preserves them all. It walks the access byte by byte (4 or 32 bytes at a time over whole
/// addressable shadow bytes/qwords, so long rep ranges stay cheap) and:
/// <list type="bullet">
/// <item>when no selected byte is unaddressable (the fast path's covering load saw a neighbour),
/// returns through gs:[LinkReturn] with flags and borrowed registers restored, having defined the
/// undefined bytes a write-only access of mode-0 code writes (<see cref="CheckKinds"/>);</item>
/// <item>when a reading access met an undefined byte (and nothing unaddressable): leaves the cache
/// with CheckUndefined set, and C# sends the thread to the propagating mode at the instruction;</item>
/// <item>otherwise leaves the cache with <see cref="ExitIds.ToolExit"/>: C# describes and
/// reports the error (or lets it pass, as for aligned partial vector loads) and the dispatcher
/// resumes at gs:[LinkReturn].</item>
/// </list>
/// Flags are kept with lahf/seto (no pushf: the guest's red zone is below rsp).
/// </summary>
[SupportedOSPlatform("linux")]
public static class AccessCheckRoutine
{
    /// <summary>
    /// The routine's entries: <paramref name="Entry"/> with every slot set by the caller (string and
    /// gather routines); <paramref name="FromSite"/> for an access stub that stored only the address,
    /// site and return (size and kind from the site's descriptor, every element selected);
    /// <paramref name="FromMaskedSite"/> as that, the stub having stored the mask and element shift too.
    /// </summary>
    public readonly record struct Entries(ulong Entry, ulong FromSite, ulong FromMaskedSite);

    public static Entries Generate(CodeRegion region, ulong exit, ulong descriptors)
    {
        var a = new Assembler(64);
        Label loop = a.CreateLabel(), oneByte = a.CreateLabel(), nextByte = a.CreateLabel(), tryFour = a.CreateLabel();
        Label ok = a.CreateLabel(), bad = a.CreateLabel(), entry = a.CreateLabel(), undefinedRead = a.CreateLabel();
        Label define = a.CreateLabel(), resume = a.CreateLabel(), leave = a.CreateLabel(), walk = a.CreateLabel(), inPlace = a.CreateLabel();

        Label fromSite = a.CreateLabel(), fromMaskedSite = a.CreateLabel(), saved = a.CreateLabel();
        a.Label(ref fromSite);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckMask + ContextTls.Offset], -1);
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckElementShift + ContextTls.Offset], 63);
        a.Label(ref fromMaskedSite);
        SlowPathRegisters.Save(a);
        a.mov(rax, (long)descriptors);
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.CheckSite + ContextTls.Offset]);
        a.mov(edx, __dword_ptr[rax + rcx * 8]);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckSize + ContextTls.Offset], rdx);
        a.mov(edx, __dword_ptr[rax + rcx * 8 + 4]);
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], edx);
        a.jmp(saved);

        a.Label(ref entry);
        SlowPathRegisters.Save(a);
        a.Label(ref saved);
        if (SlowPathProfile.Enabled)
        {
            a.mov(eax, __dword_ptr.fs[MemcheckSlots.CheckSite + ContextTls.Offset]);
            a.mov(ecx, SlowPathProfile.SiteCapacity - 1);
            a.cmp(eax, ecx);
            a.cmova(eax, ecx);
            a.mov(rcx, (long)SlowPathProfile.Base);
            a.inc(__qword_ptr[rcx + rax * 8]);
        }
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckUndefined + ContextTls.Offset], 0);
        Label unpacked = a.CreateLabel();
        a.test(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], CheckKinds.PrefixMask);
        a.jz(unpacked);
        // Compressed: mask m covers elements [0, popcount(m)), counting only the access's elements'
        // bits (a k register's bits above them are ignored by the instruction).
        a.mov(rax, __qword_ptr.fs[MemcheckSlots.CheckSize + ContextTls.Offset]);
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.CheckElementShift + ContextTls.Offset]);
        a.shr(rax, cl);
        a.mov(rcx, __qword_ptr.fs[MemcheckSlots.CheckMask + ContextTls.Offset]);
        a.bzhi(rcx, rcx, rax);
        a.popcnt(rcx, rcx);
        a.mov(rax, -1);
        a.bzhi(rax, rax, rcx);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckMask + ContextTls.Offset], rax);
        a.Label(ref unpacked);

        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.CheckAddress + ContextTls.Offset]);
        a.mov(r8, __qword_ptr.fs[MemcheckSlots.CheckSize + ContextTls.Offset]);
        // Not a user-space range: the access itself faults natively, with the right signal.
        a.lea(rax, __[rdx + r8]);
        a.shr(rax, 47);
        a.jnz(ok);
        EmitWholeLanes(a, ok, walk);
        a.Label(ref walk);
        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.CheckAddress + ContextTls.Offset]);
        a.mov(r8, __qword_ptr.fs[MemcheckSlots.CheckSize + ContextTls.Offset]);
        a.xor(ecx, ecx);

        a.Label(ref loop);
        a.cmp(rcx, r8);
        a.jae(ok);
        a.lea(rax, __[rdx + rcx]);
        a.test(al, 31);
        a.jnz(tryFour);
        a.lea(r9, __[rcx + 32]);
        a.cmp(r9, r8);
        a.ja(tryFour);
        a.shr(rax, 2);
        a.cmp(__qword_ptr.gs[rax], 0);
        a.jne(oneByte);
        a.mov(rcx, r9);
        a.jmp(loop);

        a.Label(ref tryFour);
        a.lea(rax, __[rdx + rcx]);
        a.test(al, 3);
        a.jnz(oneByte);
        a.lea(r9, __[rcx + 4]);
        a.cmp(r9, r8);
        a.ja(oneByte);
        a.shr(rax, 2);
        a.cmp(__byte_ptr.gs[rax], 0);
        a.jne(oneByte);
        a.mov(rcx, r9);
        a.jmp(loop);

        // One byte: skipped when its element is masked off, bad when its lane is 11 (unaddressable).
        a.Label(ref oneByte);
        a.mov(r9d, __dword_ptr.fs[MemcheckSlots.CheckElementShift + ContextTls.Offset]);
        a.shrx(r9, rcx, r9);
        a.bt(__qword_ptr.fs[MemcheckSlots.CheckMask + ContextTls.Offset], r9);
        a.jnc(nextByte);
        a.lea(rax, __[rdx + rcx]);
        a.mov(r9d, eax);
        a.and(r9d, 3);
        a.add(r9d, r9d);
        a.shr(rax, 2);
        a.movzx(eax, __byte_ptr.gs[rax]);
        a.shrx(eax, eax, r9d);
        a.and(eax, 3);
        a.cmp(eax, 3);
        a.je(bad);
        // Undefined (01) or partly defined (10): a read sends the thread to the propagating mode; a
        // store of mode-0 code (all registers defined) defines the byte, atomically (neighbours'
        // lanes may belong to another thread's store).
        a.test(eax, eax);
        a.jz(nextByte);
        a.test(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], CheckKinds.Reads);
        a.jz(define);
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckUndefined + ContextTls.Offset], 1);
        a.jmp(nextByte);
        a.Label(ref define);
        a.test(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], CheckKinds.Writes);
        a.jz(nextByte);
        a.mov(eax, 3);
        a.shlx(eax, eax, r9d);
        a.not(eax);
        a.lea(r9, __[rdx + rcx]);
        a.shr(r9, 2);
        Label lockedByte = a.CreateLabel();
        a.cmp(__dword_ptr.fs[MemcheckSlots.ProgramThreaded + ContextTls.Offset], 0);
        a.jne(lockedByte);
        a.and(__byte_ptr.gs[r9], al);
        a.jmp(nextByte);
        a.Label(ref lockedByte);
        a.@lock.and(__byte_ptr.gs[r9], al);
        a.Label(ref nextByte);
        a.inc(rcx);
        a.jmp(loop);

        a.Label(ref ok);
        a.cmp(__dword_ptr.fs[MemcheckSlots.CheckUndefined + ContextTls.Offset], 0);
        a.jne(undefinedRead);
        a.Label(ref resume);
        SlowPathRegisters.Restore(a);
        a.jmp(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset]);

        // The propagating mode: the instruction's own propagation (next, before it runs) takes the
        // undefined bytes into account; a pending bit in Dirty makes its pre-check call it.
        a.Label(ref undefinedRead);
        // A gather's lane in mode 0: recorded for the gather routine, which leaves after its loop.
        a.test(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], CheckKinds.Deferred);
        a.jz(inPlace);
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckUndefined + ContextTls.Offset], 0);
        a.mov(__dword_ptr.fs[MemcheckSlots.VsibUndefined + ContextTls.Offset], 1);
        a.jmp(resume);
        a.Label(ref inPlace);
        a.test(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], CheckKinds.InPlace);
        a.jz(leave);
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckUndefined + ContextTls.Offset], 0);
        a.bts(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], Definedness.ShadowRegisters.PendingBit);
        a.jmp(resume);

        // An unaddressable byte is reported (CheckUndefined cleared: the report comes first).
        a.Label(ref bad);
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckUndefined + ContextTls.Offset], 0);
        a.Label(ref leave);
        SlowPathRegisters.Restore(a);
        a.mov(__dword_ptr.fs[MemcheckSlots.ToolExitReason + ContextTls.Offset], ToolExitReasons.AccessCheck);
        a.mov(__dword_ptr.fs[ContextOffsets.ExitId + ContextTls.Offset], ExitIds.ToolExit);
        a.jmp(exit);

        ulong at = GeneratedRoutine.Place(a, region, 0x500, entry, "the access check routine", out AssemblerResult placed);
        return new Entries(at, placed.GetLabelRIP(fromSite), placed.GetLabelRIP(fromMaskedSite));
    }

    /// <summary>
    /// An unmasked access, a shadow qword (32 application bytes) at a time rather than byte by byte:
    /// the lanes the access covers in each aligned shadow qword are taken whole. Undefined lanes make
    /// a read set CheckUndefined and a write-only access of mode-0 code (fresh malloc'd memory:
    /// memset, the first writes to a new object, rep stos) define them with one locked `and`; an
    /// unaddressable lane sends the access to <paramref name="walk"/>, which starts over and reports
    /// it byte-exactly. rdx holds the address, r8 the size; a masked access goes to the walk too.
    /// (A vectorized strlen's 32-byte loads next to a buffer's undefined tail would otherwise walk
    /// 32 bytes each time.)
    /// </summary>
    private static void EmitWholeLanes(Assembler a, Label ok, Label walk)
    {
        Label lowBits = a.CreateLabel(), next = a.CreateLabel(), writeOnly = a.CreateLabel();
        a.cmp(__qword_ptr.fs[MemcheckSlots.CheckMask + ContextTls.Offset], -1);
        a.jne(walk);
        a.Label(ref next);
        a.test(r8, r8);
        a.jz(ok);
        // n = min(32 - (a & 31), remaining): this qword's lanes are bits [2*(a & 31), 2*(a & 31) + 2n).
        a.mov(ecx, edx);
        a.and(ecx, 31);
        a.mov(eax, 32);
        a.sub(eax, ecx);
        a.cmp(rax, r8);
        a.cmova(rax, r8);
        a.mov(r9, -1);
        a.lea(ecx, __[rax + rax]);
        a.bzhi(r9, r9, rcx);
        a.mov(ecx, edx);
        a.and(ecx, 31);
        a.add(ecx, ecx);
        a.shlx(r9, r9, rcx);
        a.mov(rcx, rdx);
        a.shr(rcx, 5);
        a.shl(rcx, 3);
        a.add(rdx, rax);
        a.sub(r8, rax);
        a.mov(rax, __qword_ptr.gs[rcx]);
        a.and(rax, r9);
        a.jz(next);                        // these lanes are defined already
        a.mov(r9, rax);
        a.shr(r9, 1);
        a.and(r9, rax);
        a.test(__qword_ptr[lowBits], r9);  // a lane 11: unaddressable, reported by the walk
        a.jnz(walk);
        // Undefined lanes: a read goes on to the propagating mode (after the rest is checked).
        a.test(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], CheckKinds.Reads);
        a.jz(writeOnly);
        a.mov(__dword_ptr.fs[MemcheckSlots.CheckUndefined + ContextTls.Offset], 1);
        a.jmp(next);
        a.Label(ref writeOnly);
        a.test(__dword_ptr.fs[MemcheckSlots.CheckKind + ContextTls.Offset], CheckKinds.Writes);
        a.jz(next);
        a.not(rax);
        // Single-threaded, no other store can share the word: a plain and (the locked one was ~8%
        // of the bench's alloc, whose payload memsets write fresh, undefined heap).
        Label locked = a.CreateLabel();
        a.cmp(__dword_ptr.fs[MemcheckSlots.ProgramThreaded + ContextTls.Offset], 0);
        a.jne(locked);
        a.and(__qword_ptr.gs[rcx], rax);
        a.jmp(next);
        a.Label(ref locked);
        a.@lock.and(__qword_ptr.gs[rcx], rax);
        a.jmp(next);
        a.Label(ref lowBits);
        a.dq(0x5555_5555_5555_5555UL);
    }
}
