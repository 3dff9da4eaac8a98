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
/// place the fragment gets a 24-byte lazy stub, 8-aligned:
/// <code>
///   lea  scratch, [rip - 7]      ; its own address (the scratch is free at a stub's entry)
///   jmp  lazy routine (scratch)  ; stores it, leaves for C# (ToolExitReasons.LazyStub)
///   site id (4), distance back to the resume point (4), scratch and flags (1),
///   stored dirty bit (1), mode (1), 0 (1)
/// </code>
/// C# (<see cref="AccessCheckEmitter.Materialize"/>) reads the bytes after the jump, emits the
/// stub the translation would have (the same <c>EmitStub</c>) at the code region's end, and turns
/// the lazy stub's first 8 bytes into a jump to it with one aligned store: a thread that meets the
/// old bytes leaves and finds it made. The thread resumes at the lazy stub, now the jump, with every
/// register as the inline check left it. The stub lies outside any fragment, as the exit stubs do;
/// it ends in the same jump back to its resume point. Everything it needs is in the bytes, so a
/// persisted snapshot (the region's whole used range) holds lazy and made stubs alike.
/// </summary>
[SupportedOSPlatform("linux")]
public static class LazyStubs
{
    public const int Size = 24;
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

    /// <summary>A lazy stub at the buffer's next 8-byte boundary; returns its address.</summary>
    internal static ulong Emit(CodeBuffer code, in Parameters p, ulong[] routines)
    {
        while ((code.CurrentAddress & 7) != 0) code.Byte(0xCC);
        ulong at = code.CurrentAddress;
        int r = p.Scratch - Register.RAX;
        // lea r64, [rip - 7]: REX.W (+R), 8D, ModRM 00 reg 101, disp32.
        code.Byte((byte)(0x48 | (r >= 8 ? 4 : 0)));
        code.Byte(0x8D);
        code.Byte((byte)(0x05 | (r & 7) << 3));
        code.Int32(-7);
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, routines[r]));
        code.Int32(p.Site);
        code.Int32(checked((int)(uint)(at - p.Resume)));
        code.Byte((byte)(r | (p.Spilled ? 0x10 : 0) | (p.FlagsDead ? 0x20 : 0) | (p.StoreSetsLanes ? 0x40 : 0) | (p.InPlace ? 0x80 : 0)));
        code.Byte(unchecked((byte)(sbyte)p.StoredDirtyBit));
        code.Byte(checked((byte)p.Mode));
        code.Byte(0);
        return at;
    }

    /// <summary>Whether the lazy stub at <paramref name="at"/> is a jump to its made stub already.</summary>
    internal static unsafe bool IsMade(ulong at) => *(byte*)at == 0xE9;

    internal static unsafe Parameters Read(ulong at)
    {
        byte* d = (byte*)at + DataOffset;
        byte bits = d[8];
        return new Parameters(*(int*)d, at - *(uint*)(d + 4), Register.RAX + (bits & 15), (bits & 0x10) != 0, (bits & 0x20) != 0,
            (bits & 0x40) != 0, (bits & 0x80) != 0, (sbyte)d[9], d[10]);
    }

    /// <summary>Turns the lazy stub at <paramref name="at"/> into a jump to <paramref name="stub"/> (one aligned 8-byte store).</summary>
    internal static unsafe void Redirect(ulong at, ulong stub)
    {
        ulong old = *(ulong*)at;
        ulong jump = 0xE9UL | (ulong)(uint)Rel32.Displacement(at + 5, stub) << 8;
        Volatile.Write(ref *(ulong*)at, (old & 0xFFFF_FF00_0000_0000UL) | jump);
    }
}
