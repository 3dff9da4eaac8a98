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
/// The propagating mode's fast path for plain moves between a register and memory (mov, movdqu,
/// vmovdqu, movq...: most of what copies partly undefined records around), without the C# exit.
/// Byte-granular, and bit-granular in the heap: a memory byte is defined (00), undefined (01) or, in
/// the heap, partly defined (10, its undefined bits in <see cref="HeapVBits"/>: a bitfield's byte),
/// a register shadow byte anything; a partly defined byte elsewhere (the stack's bits are C#'s) or
/// an undefined address register falls back to the C# exit. A store's bytes beyond one shadow qword (32 bytes) are written in a second round. Reached by jump-and-link with the
/// Move* slots set; returns through gs:[LinkReturn] with every register and the flags as they were.
/// <list type="bullet">
/// <item>load: the register's shadow bytes [0, size) from the memory's states (pext of the undefined
/// lanes, pdep into bytes, times 0xff), [size, zero-to) defined, its dirty bit recomputed, and the
/// pending bit (set by the access check for this read) cleared;</item>
/// <item>store: each 8 bytes of register shadow back into lanes (01 for an undefined byte in the heap
/// and the thread's stack; undefined bytes elsewhere go to C#, see MemoryDefinedness), unaddressable lanes left
/// alone, lanes already in their new states not written (no locked op), and the pending bit its
/// check set over undefined lanes (<see cref="Instrumentation.LaneAction.Pending"/>) cleared.</item>
/// </list>
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ShadowMoveRoutine
{
    /// <param name="heapBitsBias">Added to a heap address, where its partly defined byte's bits are (<see cref="HeapVBits"/>).</param>
    /// <param name="staticTlsCell">Where the routine reads the static TLS size below the thread pointer (a qword C# keeps up to date: <see cref="DefinednessChecks"/>), and 8 bytes on whether its accesses are checked.</param>
    /// <param name="moduleSpanCell">Two qwords: the span of the modules' writable segments, where undefined stores go to C# (<see cref="GlobalTaint"/>).</param>
    public static ulong Generate(CodeRegion region, ulong propagateExit, ulong heapStart, ulong heapEnd, ulong heapBitsBias, out ulong staticTlsCell, out ulong moduleSpanCell)
    {
        Label tlsBelow, tlsTainted, moduleSpan, moduleSpanEnd;
        var a = new Assembler(64);
        tlsBelow = a.CreateLabel();
        tlsTainted = a.CreateLabel();
        moduleSpan = a.CreateLabel();
        moduleSpanEnd = a.CreateLabel();
        Label entry = a.CreateLabel(), fallback = a.CreateLabel(), done = a.CreateLabel();
        Label loadLoop = a.CreateLabel(), zeroLoop = a.CreateLabel(), dirtyLoop = a.CreateLabel(), clean = a.CreateLabel(), setDirty = a.CreateLabel();
        Label storeLoop = a.CreateLabel(), heapLanes = a.CreateLabel();
        Label lanes55 = a.CreateLabel(), bytes01 = a.CreateLabel(), bytes80 = a.CreateLabel();
        Label lanesAA = a.CreateLabel(), bytes7f = a.CreateLabel();
        Label loadPartial = a.CreateLabel(), loaded = a.CreateLabel(), storePartial = a.CreateLabel();

        a.Label(ref entry);
        SlowPathRegisters.SaveRaxAndFlags(a, MemcheckSlots.MoveSaveRax, MemcheckSlots.MoveSaveFlags);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveRcx + ContextTls.Offset], rcx);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveRdx + ContextTls.Offset], rdx);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveR8 + ContextTls.Offset], r8);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveR9 + ContextTls.Offset], r9);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveR10 + ContextTls.Offset], r10);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveSaveR11 + ContextTls.Offset], r11);
        // An undefined address register is a use to report: C#.
        a.mov(eax, __dword_ptr.fs[MemcheckSlots.MoveAddressBits + ContextTls.Offset]);
        a.test(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rax);
        a.jnz(fallback);
        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.MoveAddress + ContextTls.Offset]);
        a.mov(r8d, __dword_ptr.fs[MemcheckSlots.MoveSlot + ContextTls.Offset]);
        a.xor(r10d, r10d);                                     // byte offset i
        a.cmp(__dword_ptr.fs[MemcheckSlots.MoveStore + ContextTls.Offset], 0);
        a.jne(storeLoop);

        // ---- load: shadow bytes [i, i + 8) of the register from the lanes of [a + i, a + i + 8) ----
        a.Label(ref loadLoop);
        a.lea(rax, __[rdx + r10]);
        a.mov(ecx, eax);
        a.and(ecx, 3);
        a.add(ecx, ecx);
        a.shr(rax, 2);
        a.mov(eax, __dword_ptr.gs[rax]);                      // 16 application bytes from (a + i) & ~3
        a.shrx(eax, eax, ecx);
        a.movzx(eax, ax);                                     // the 8 bytes' lanes
        a.mov(ecx, eax);
        a.shr(ecx, 1);
        a.andn(r11d, eax, ecx);                               // high bit set, low clear: 10, partly defined
        a.andn(r9d, ecx, eax);                                // low set, high clear: 01, undefined (11 reads as defined)
        a.pext(r9d, r9d, __dword_ptr[lanes55]);
        a.pdep(r9, r9, __qword_ptr[bytes01]);
        a.imul(r9, r9, 0xff);
        a.and(r11d, 0x5555);
        a.jnz(loadPartial);
        a.Label(ref loaded);
        KeepLastChunksBytes(a);
        a.mov(__qword_ptr.fs[r8 + r10 + ContextTls.Offset], r9);
        a.add(r10d, 8);
        a.cmp(r10d, __dword_ptr.fs[MemcheckSlots.MoveSize + ContextTls.Offset]);
        a.jb(loadLoop);
        // The rest of the register the load zeroes is defined.
        a.Label(ref zeroLoop);
        a.cmp(r10d, __dword_ptr.fs[MemcheckSlots.MoveZeroTo + ContextTls.Offset]);
        a.jae(dirtyLoop);
        a.mov(__qword_ptr.fs[r8 + r10 + ContextTls.Offset], 0);
        a.add(r10d, 8);
        a.jmp(zeroLoop);
        a.Label(ref dirtyLoop);
        a.xor(eax, eax);
        a.xor(r10d, r10d);
        Label orLoop = a.CreateLabel();
        a.Label(ref orLoop);
        a.or(rax, __qword_ptr.fs[r8 + r10 + ContextTls.Offset]);
        a.add(r10d, 8);
        a.cmp(r10d, __dword_ptr.fs[MemcheckSlots.MoveFullSize + ContextTls.Offset]);
        a.jb(orLoop);
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.MoveBit + ContextTls.Offset]);
        a.test(rax, rax);
        a.jnz(setDirty);
        a.btr(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rcx);
        a.jmp(clean);
        a.Label(ref setDirty);
        a.bts(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], rcx);
        a.Label(ref clean);
        a.btr(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], ShadowRegisters.PendingBit);
        a.jmp(done);

        // ---- store: the register's shadow bytes [i, i + 8) into the lanes of [a + i, a + i + 8) ----
        a.Label(ref storeLoop);
        a.mov(r9, __qword_ptr.fs[r8 + r10 + ContextTls.Offset]);
        KeepLastChunksBytes(a);
        // Every byte 0x00 or 0xff, else C#.
        a.pext(r11, r9, __qword_ptr[bytes80]);
        a.pdep(rax, r11, __qword_ptr[bytes01]);
        a.imul(rax, rax, 0xff);
        a.cmp(rax, r9);
        a.jne(storePartial);
        a.lea(rax, __[rdx + r10]);
        // Nothing undefined: the lanes become defined, wherever they are.
        a.test(r11, r11);
        a.jz(heapLanes);
        // Undefined bytes stay undefined everywhere; in the thread's static TLS and TCB ([fs - static
        // TLS, fs + 4 KB), written fs-relative) only once GlobalTaint has its accesses checked.
        Label keeps = a.CreateLabel(), stack = a.CreateLabel(), elsewhere = a.CreateLabel(), aboveFs = a.CreateLabel(), defines = a.CreateLabel();
        a.mov(rcx, heapStart);
        a.cmp(rax, rcx);
        a.jb(stack);
        a.mov(rcx, heapEnd);
        a.cmp(rax, rcx);
        a.jb(keeps);
        a.Label(ref stack);
        a.cmp(rax, __qword_ptr.fs[MemcheckSlots.StackLimit + ContextTls.Offset]);
        a.jb(elsewhere);
        a.cmp(rax, __qword_ptr.fs[MemcheckSlots.StackTop + ContextTls.Offset]);
        a.jb(keeps);
        a.Label(ref elsewhere);
        // Among the modules' data: C#, which marks a global's page as one that may hold undefined bytes.
        Label notModuleData = a.CreateLabel();
        a.cmp(rax, __qword_ptr[moduleSpan]);
        a.jb(notModuleData);
        a.cmp(rax, __qword_ptr[moduleSpanEnd]);
        a.jb(fallback);
        a.Label(ref notModuleData);
        a.mov(rcx, __qword_ptr.fs[Engine.State.ContextOffsets.GuestFsBase + ContextTls.Offset]);
        a.test(rcx, rcx);
        a.jz(keeps);
        a.cmp(rax, rcx);
        a.jae(aboveFs);
        a.sub(rcx, rax);                                      // fs - address
        a.cmp(rcx, __qword_ptr[tlsBelow]);
        a.ja(keeps);
        a.jmp(defines);
        a.Label(ref aboveFs);
        a.sub(rcx, rax);
        a.neg(rcx);                                           // address - fs
        a.cmp(rcx, ThreadControlAbove);
        a.jae(keeps);
        a.Label(ref defines);
        // The static TLS keeps undefined bytes once its accesses are checked; its first one is C#'s (GlobalTaint).
        a.cmp(__qword_ptr[tlsTainted], 0);
        a.jne(keeps);
        a.jmp(fallback);
        a.Label(ref keeps);
        a.pdep(r11, r11, __qword_ptr[lanes55]);               // 01 per undefined byte
        a.jmp(heapLanes);
        a.Label(ref heapLanes);
        // The lanes are bits [2*(a & 31), +2n) of the aligned shadow qword (at most the rest of it this round).
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.MoveSize + ContextTls.Offset]);
        a.sub(ecx, r10d);
        a.cmp(ecx, 8);
        Label countOk = a.CreateLabel();
        a.jbe(countOk);
        a.mov(ecx, 8);
        a.Label(ref countOk);                                  // ecx = n bytes this round
        // Bytes past this shadow qword's 32 go in the next round (an unaligned memcpy's stores).
        Label fits = a.CreateLabel();
        a.mov(r9d, eax);
        a.and(r9d, 31);
        a.add(r9d, ecx);
        a.cmp(r9d, 32);
        a.jbe(fits);
        a.mov(ecx, eax);
        a.and(ecx, 31);
        a.neg(ecx);
        a.add(ecx, 32);
        a.Label(ref fits);
        a.lea(r9d, __[r10 + rcx]);
        a.mov(__qword_ptr.fs[MemcheckSlots.MoveTemp + ContextTls.Offset], r9);       // the next round's offset
        a.add(ecx, ecx);
        a.mov(r9, -1);
        a.bzhi(r9, r9, rcx);                                   // lane bits of n bytes
        a.mov(ecx, eax);
        a.and(ecx, 31);
        a.add(ecx, ecx);
        a.shlx(r9, r9, rcx);                                   // our lanes in the qword
        a.shlx(r11, r11, rcx);                                 // their new values
        a.shr(rax, 5);
        a.shl(rax, 3);                                         // the shadow qword's offset
        a.mov(rcx, __qword_ptr.gs[rax]);
        // Unaddressable lanes (11) stay: drop them from the mask.
        a.mov(r10, rcx);
        a.shr(r10, 1);
        a.and(r10, rcx);
        a.and(r10, __qword_ptr[lanes55]);
        a.lea(r10, __[r10 + r10 * 2]);                         // 11 where a lane is 11
        a.andn(r9, r10, r9);
        a.and(r11, r9);
        a.mov(r10, __qword_ptr.fs[MemcheckSlots.MoveTemp + ContextTls.Offset]);
        // Lanes that hold their new states already are not written: a copy of undefined fields over
        // undefined ones (sort's merge of line records) or of defined over defined takes no locked op.
        Label unchanged = a.CreateLabel();
        a.and(rcx, r9);
        a.cmp(rcx, r11);
        a.je(unchanged);
        a.not(r9);
        a.@lock.and(__qword_ptr.gs[rax], r9);
        a.@lock.or(__qword_ptr.gs[rax], r11);
        a.Label(ref unchanged);
        a.cmp(r10d, __dword_ptr.fs[MemcheckSlots.MoveSize + ContextTls.Offset]);
        a.jb(storeLoop);
        // The store's check may have set the pending bit over the undefined lanes it overwrote
        // (LaneAction.Pending): they are set now.
        a.btr(__qword_ptr.fs[MemcheckSlots.Dirty + ContextTls.Offset], ShadowRegisters.PendingBit);

        a.Label(ref done);
        Restore(a);
        a.jmp(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset]);

        // ---- a partly defined byte loaded from the heap: its bits from the heap's table ----
        // r11d: the chunk's partly defined lanes (even bits), r9: 0xff per undefined byte so far.
        a.Label(ref loadPartial);
        a.pext(r11d, r11d, __dword_ptr[lanes55]);             // a bit per partly defined byte
        a.lea(rax, __[rdx + r10]);
        InHeapOrFallback(a, heapStart, heapEnd, fallback);
        a.mov(rcx, heapBitsBias);
        a.mov(rax, __qword_ptr[rcx + rax]);                   // the 8 bytes' table bytes; only the partly defined ones mean anything
        a.pdep(r11, r11, __qword_ptr[bytes01]);
        a.imul(r11, r11, 0xff);
        a.and(rax, r11);
        a.or(r9, rax);
        a.jmp(loaded);

        // ---- a register byte neither 0x00 nor 0xff stored into the heap: its bits into the heap's table, lane 10 ----
        // Outside the heap, C#: the bits of other bytes are in MemoryDefinedness's dictionary (which
        // also decides whether the byte keeps them).
        Label storePartialHeap = a.CreateLabel(), storePartialElsewhere = a.CreateLabel();
        a.Label(ref storePartial);
        a.lea(rax, __[rdx + r10]);
        a.mov(rcx, heapStart);
        a.cmp(rax, rcx);
        a.jb(storePartialElsewhere);
        a.mov(rcx, heapEnd);
        a.cmp(rax, rcx);
        a.jae(storePartialElsewhere);
        a.mov(rcx, heapEnd - 8);
        a.cmp(rax, rcx);
        a.jbe(storePartialHeap);
        a.jmp(fallback);                                      // the arena's last 8 bytes: C#
        a.Label(ref storePartialElsewhere);
        a.jmp(fallback);
        a.Label(ref storePartialHeap);
        // The bits of the store's bytes in this chunk (min(8, size - i)) first, one byte at a time: a
        // neighbour's bits are never rewritten. Then the lanes, which give them meaning.
        {
            Label byteLoop = a.CreateLabel();
            a.mov(__qword_ptr.fs[MemcheckSlots.MoveTemp + ContextTls.Offset], r9);
            a.mov(rcx, heapBitsBias);
            a.add(rcx, rax);
            a.mov(r11d, __dword_ptr.fs[MemcheckSlots.MoveSize + ContextTls.Offset]);
            a.sub(r11d, r10d);
            a.mov(eax, 8);
            a.cmp(r11d, eax);
            a.cmova(r11d, eax);
            a.Label(ref byteLoop);
            a.mov(__byte_ptr[rcx], r9b);
            a.shr(r9, 8);
            a.inc(rcx);
            a.dec(r11d);
            a.jnz(byteLoop);
            a.mov(r9, __qword_ptr.fs[MemcheckSlots.MoveTemp + ContextTls.Offset]);
        }
        // Per byte (SWAR, no carry between bytes): 0xff -> 01, 0x00 -> 00, anything else -> 10.
        a.mov(rax, r9);
        a.not(rax);
        a.mov(r11, rax);
        a.and(r11, __qword_ptr[bytes7f]);
        a.add(r11, __qword_ptr[bytes7f]);
        a.or(r11, rax);                                       // high bit: the byte is not 0xff
        a.andn(r11, r11, __qword_ptr[bytes80]);               // high bit: the byte is 0xff
        a.mov(rax, r9);
        a.and(rax, __qword_ptr[bytes7f]);
        a.add(rax, __qword_ptr[bytes7f]);
        a.or(rax, r9);
        a.and(rax, __qword_ptr[bytes80]);                     // high bit: the byte is not 0x00
        a.andn(rax, r11, rax);                                // high bit: partly defined
        a.pext(r11, r11, __qword_ptr[bytes80]);
        a.pdep(r11, r11, __qword_ptr[lanes55]);
        a.pext(rax, rax, __qword_ptr[bytes80]);
        a.pdep(rax, rax, __qword_ptr[lanesAA]);
        a.or(r11, rax);
        a.lea(rax, __[rdx + r10]);
        a.jmp(heapLanes);

        // Anything unusual: the instruction's propagation in C# (gs:[PropagateSite] is set), then back.
        a.Label(ref fallback);
        Restore(a);
        a.jmp(propagateExit);

        a.Label(ref lanes55);
        a.dq(0x5555_5555_5555_5555UL);
        a.Label(ref bytes01);
        a.dq(0x0101_0101_0101_0101UL);
        a.Label(ref bytes80);
        a.dq(0x8080_8080_8080_8080UL);
        a.Label(ref lanesAA);
        a.dq(0xAAAA_AAAA_AAAA_AAAAUL);
        a.Label(ref bytes7f);
        a.dq(0x7F7F_7F7F_7F7F_7F7FUL);
        a.Label(ref tlsBelow);
        a.dq(DefaultStaticTlsBytes);
        a.Label(ref tlsTainted);                              // right after: staticTlsCell + 8
        a.dq(0UL);
        a.Label(ref moduleSpan);
        a.dq(0UL);
        a.Label(ref moduleSpanEnd);
        a.dq(0UL);
        ulong at = GeneratedRoutine.Place(a, region, 0x600, entry, "the shadow move routine", out AssemblerResult result);
        staticTlsCell = result.GetLabelRIP(tlsBelow);
        moduleSpanCell = result.GetLabelRIP(moduleSpan);
        return at;
    }

    /// <summary>The static TLS size until the modules say (glibc's surplus alone).</summary>
    public const ulong DefaultStaticTlsBytes = 1664;

    /// <summary>The thread control block's extent above the thread pointer, as MemoryDefinedness takes it.</summary>
    public const int ThreadControlAbove = 4096;

    /// <summary>Goes on when the 8 bytes from rax lie in the heap arena, else to <paramref name="fallback"/> (rcx clobbered).</summary>
    private static void InHeapOrFallback(Assembler a, ulong heapStart, ulong heapEnd, Label fallback)
    {
        a.mov(rcx, heapStart);
        a.cmp(rax, rcx);
        a.jb(fallback);
        a.mov(rcx, heapEnd - 8);
        a.cmp(rax, rcx);
        a.ja(fallback);
    }

    /// <summary>A last chunk shorter than 8 bytes (size - i in ecx): only its bytes of r9 stay.</summary>
    private static void KeepLastChunksBytes(Assembler a)
    {
        Label full = a.CreateLabel();
        a.mov(ecx, __dword_ptr.fs[MemcheckSlots.MoveSize + ContextTls.Offset]);
        a.sub(ecx, r10d);
        a.cmp(ecx, 8);
        a.jae(full);
        a.shl(ecx, 3);
        a.bzhi(r9, r9, rcx);
        a.Label(ref full);
    }

    private static void Restore(Assembler a)
    {
        a.mov(r11, __qword_ptr.fs[MemcheckSlots.MoveSaveR11 + ContextTls.Offset]);
        a.mov(r10, __qword_ptr.fs[MemcheckSlots.MoveSaveR10 + ContextTls.Offset]);
        a.mov(r9, __qword_ptr.fs[MemcheckSlots.MoveSaveR9 + ContextTls.Offset]);
        a.mov(r8, __qword_ptr.fs[MemcheckSlots.MoveSaveR8 + ContextTls.Offset]);
        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.MoveSaveRdx + ContextTls.Offset]);
        a.mov(rcx, __qword_ptr.fs[MemcheckSlots.MoveSaveRcx + ContextTls.Offset]);
        SlowPathRegisters.RestoreFlagsAndRax(a, MemcheckSlots.MoveSaveRax, MemcheckSlots.MoveSaveFlags);
    }
}
