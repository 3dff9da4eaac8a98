using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.MemcheckTool.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// An access site's stub made the first time the site's inline check fails, not with its fragment:
/// most never run (cc1plus: 36K of 337K stubs ran, python 3.7K of 50K, sqlite 3.9K of 26K), yet
/// each was ~56 bytes of code, a fifth of the cache, and its share of every translation. In its
/// place the fragment gets a 20-byte lazy stub, its first 5 bytes within one aligned quadword:
/// <code>
///   lea  scratch, [rip - 7]      ; its own address (the scratch is free at a stub's entry)
///   jmp  lazy routine (scratch)  ; stores it, leaves for C# (ToolExitReasons.LazyStub)
///   site id (3), distance back to the resume point (2), scratch and flags (1),
///   stored dirty bit (1), mode (1)
/// </code>
/// (a site numbered 2^24 or more, or a resume point 64 KB back, gets its stub made at once).
/// C# (<see cref="AccessCheckEmitter.Materialize"/>) reads the bytes after the jump, emits the
/// stub the translation would have (the same <c>EmitStub</c>) at the code region's end, and turns
/// the lazy stub's first 5 bytes into a jump to it with one aligned 8-byte store: a thread that meets the
/// old bytes leaves and finds it made. The thread resumes at the lazy stub, now the jump, with every
/// register as the inline check left it. The stub lies outside any fragment, as the exit stubs do;
/// it ends in the same jump back to its resume point. Everything it needs is in the bytes, so a
/// persisted snapshot (the region's whole used range) holds lazy and made stubs alike.
/// </summary>
[SupportedOSPlatform("linux")]
public static class LazyStubs
{
    public const int Size = 20;
    private const int DataOffset = 12;

    /// <summary>Off with MEMCHECK_EAGER_STUBS=1 (a developer's comparison): every stub made with its fragment.</summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("MEMCHECK_EAGER_STUBS") != "1";

    /// <summary>The lazy routine of each scratch register (rax..r15): stores it in gs:[LazyStubAt] and leaves.</summary>
    public static ulong[] GenerateRoutines(CodeRegion region, ulong exit)
    {
        AssemblerRegister64[] registers = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
        var routines = new ulong[registers.Length];
        for (int i = 0; i < registers.Length; i++)
        {
            var a = new Assembler(64);
            Label entry = a.CreateLabel();
            a.Label(ref entry);
            a.mov(__qword_ptr.fs[MemcheckSlots.LazyStubAt + ContextTls.Offset], registers[i]);
            a.mov(__dword_ptr.fs[MemcheckSlots.ToolExitReason + ContextTls.Offset], ToolExitReasons.LazyStub);
            a.mov(__dword_ptr.fs[ContextOffsets.ExitId + ContextTls.Offset], ExitIds.ToolExit);
            a.jmp(exit);
            routines[i] = GeneratedRoutine.Place(a, region, 0x40, entry, "a lazy stub's exit");
        }
        return routines;
    }

    /// <summary>What a lazy stub holds: the parameters of the stub it stands for.</summary>
    internal readonly record struct Parameters(int Site, ulong Resume, Register Scratch, bool Spilled, bool FlagsDead,
        bool StoreSetsLanes, bool InPlace, int StoredDirtyBit, int Mode);

    /// <summary>Whether a lazy stub at <paramref name="at"/> can hold <paramref name="p"/> (else the stub is made at once).</summary>
    internal static bool Fits(in Parameters p, ulong at) => (uint)p.Site < 1 << 24 && at - p.Resume + 8 < 1 << 16;

    /// <summary>A lazy stub where its first 5 bytes share an aligned quadword (int3 padding before); returns its address.</summary>
    internal static ulong Emit(CodeBuffer code, in Parameters p, ulong[] routines)
    {
        while ((code.CurrentAddress & 7) > 3) code.Byte(0xCC);
        ulong at = code.CurrentAddress;
        int r = p.Scratch - Register.RAX;
        ushort back = checked((ushort)(at - p.Resume));
        // Built on the stack and written once: byte by byte, the buffer's checks were most of a stub's cost.
        Span<byte> b = stackalloc byte[Size];
        // lea r64, [rip - 7]: REX.W (+R), 8D, ModRM 00 reg 101, disp32.
        b[0] = (byte)(0x48 | (r >= 8 ? 4 : 0));
        b[1] = 0x8D;
        b[2] = (byte)(0x05 | (r & 7) << 3);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b[3..], -7);
        b[7] = 0xE9;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b[8..], Rel32.Displacement(at + 12, routines[r]));
        b[12] = (byte)p.Site;
        b[13] = (byte)(p.Site >> 8);
        b[14] = checked((byte)(p.Site >> 16));
        b[15] = (byte)back;
        b[16] = (byte)(back >> 8);
        b[17] = (byte)(r | (p.Spilled ? 0x10 : 0) | (p.FlagsDead ? 0x20 : 0) | (p.StoreSetsLanes ? 0x40 : 0) | (p.InPlace ? 0x80 : 0));
        b[18] = unchecked((byte)(sbyte)p.StoredDirtyBit);
        b[19] = checked((byte)p.Mode);
        code.Raw(b);
        return at;
    }

    /// <summary>Whether the lazy stub at <paramref name="at"/> is a jump to its made stub already.</summary>
    internal static unsafe bool IsMade(ulong at) => *(byte*)at == 0xE9;

    internal static unsafe Parameters Read(ulong at)
    {
        byte* d = (byte*)at + DataOffset;
        byte bits = d[5];
        return new Parameters(d[0] | d[1] << 8 | d[2] << 16, at - (ulong)(d[3] | d[4] << 8), Register.RAX + (bits & 15), (bits & 0x10) != 0,
            (bits & 0x20) != 0, (bits & 0x40) != 0, (bits & 0x80) != 0, (sbyte)d[6], d[7]);
    }

    /// <summary>
    /// Turns the lazy stub at <paramref name="at"/> into a jump to <paramref name="stub"/>: one store of
    /// the aligned quadword its first 5 bytes lie in, the quadword's other bytes as they were (every
    /// patch of the cache is made under its lock).
    /// </summary>
    internal static unsafe void Redirect(ulong at, ulong stub)
    {
        ulong* word = (ulong*)(at & ~7UL);
        int shift = (int)(at & 7) * 8;
        ulong jump = 0xE9UL | (ulong)(uint)Rel32.Displacement(at + 5, stub) << 8;
        ulong mask = 0xFF_FFFF_FFFFUL << shift;
        Volatile.Write(ref *word, (*word & ~mask) | jump << shift);
    }
}
