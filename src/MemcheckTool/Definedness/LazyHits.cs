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
/// A pre-check's hit path (<see cref="PropagationEmitter"/>) made the first time the pre-check finds
/// a dirty input, not with its fragment. Hits run only where undefined values pass: cc1plus's
/// 134K hit paths were ~56 bytes each, 7.5 MB of its 72 MB cache, made with every translation. In
/// their place, a lazy hit of 20 bytes (its first 5 within one aligned quadword, as
/// <see cref="LazyStubs"/>):
/// <code>
///   lea  rcx, [rip - 7]          ; its own address (rcx is free: the pre-check keeps the guest's elsewhere)
///   jmp  lazy hit routine        ; stores it, leaves for C# (ToolExitReasons.LazyHit)
///   propagation site (3), distance back to the resume point (2), keeper and kind (1), 0, 0
/// </code>
/// A plain copy's pre-check (flags dead: a test of Dirty) borrows no register; its lazy hit keeps
/// rcx in gs:[PrecheckSaveRcx] first (<c>mov gs:[PrecheckSaveRcx], rcx</c>, 9 bytes more), and C#
/// gives it back. C# (<see cref="PropagationEmitter.MakeHit"/>) rebuilds the hit from the site's
/// instruction (the propagation sites keep it for the C# exits), emits it as translation would have at
/// the code region's end and turns the lazy hit's first 5 bytes into a jump to it; the thread resumes
/// at the lazy hit, now that jump. A made hit returns to the resume point inside its fragment, and its
/// routines return there (gs:[LinkReturn]), as any hit's. Everything is in the bytes and the
/// persisted propagation sites, so a translation snapshot holds lazy and made hits alike.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class LazyHits
{
    /// <summary>Bytes of a lazy hit after its lea (jmp 5, data 8); the plain copy's prefix is 9 more.</summary>
    private const int DataOffset = 12, PlainPrefix = 9;
    private const byte PlainCopyBit = 0x20;

    /// <summary>Its exit: rcx (the lazy hit's lea) into gs:[LazyStubAt], the reason, and out.</summary>
    public static ulong GenerateRoutine(CodeRegion region, ulong exit)
    {
        var a = new Assembler(64);
        Label entry = a.CreateLabel();
        a.Label(ref entry);
        a.mov(__qword_ptr.fs[MemcheckSlots.LazyStubAt + ContextTls.Offset], rcx);
        a.mov(__dword_ptr.fs[MemcheckSlots.ToolExitReason + ContextTls.Offset], ToolExitReasons.LazyHit);
        a.mov(__dword_ptr.fs[ContextOffsets.ExitId + ContextTls.Offset], ExitIds.ToolExit);
        a.jmp(exit);
        return GeneratedRoutine.Place(a, region, 0x40, entry, "a lazy hit's exit");
    }

    /// <summary>What a lazy hit holds: the hit's propagation site, resume point, whether it is a plain copy's, and the pre-check's rcx keeper.</summary>
    internal readonly record struct Parameters(int Site, ulong Resume, bool PlainCopy, Register Keeper);

    /// <summary>Whether a lazy hit emitted at or after <paramref name="at"/> can hold <paramref name="p"/> (else the hit is made at once).</summary>
    internal static bool Fits(in Parameters p, ulong at) =>
        (uint)p.Site < 1 << 24 && at >= p.Resume && at - p.Resume + 16 < 1 << 16 && (p.Keeper == Register.None || p.Keeper is >= Register.RAX and <= Register.R15);

    /// <summary>A lazy hit whose first 5 bytes share an aligned quadword (int3 padding before); returns its address.</summary>
    internal static ulong Emit(CodeBuffer code, in Parameters p, ulong routine)
    {
        while ((code.CurrentAddress & 7) > 3) code.Byte(0xCC);
        ulong at = code.CurrentAddress;
        if (p.PlainCopy) code.StoreSlot(MemcheckSlots.PrecheckSaveRcx, Register.RCX);
        if (code.CurrentAddress - at != (ulong)(p.PlainCopy ? PlainPrefix : 0)) throw new InvalidOperationException("a lazy hit's rcx store is not 9 bytes");
        code.Raw([0x48, 0x8D, 0x0D]);   // lea rcx, [rip - 7]
        code.Int32(-7);
        code.Byte(0xE9);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, routine));
        code.Byte((byte)p.Site);
        code.Byte((byte)(p.Site >> 8));
        code.Byte(checked((byte)(p.Site >> 16)));
        ushort back = checked((ushort)(at - p.Resume));
        code.Byte((byte)back);
        code.Byte((byte)(back >> 8));
        int keeper = p.Keeper == Register.None ? 0 : p.Keeper - Register.RAX + 1;
        code.Byte((byte)(keeper | (p.PlainCopy ? PlainCopyBit : 0)));
        code.Byte(0);
        code.Byte(0);
        return at;
    }

    /// <summary>The lazy hit whose lea is at <paramref name="lea"/> (what its routine stored): where it starts and what it holds.</summary>
    internal static unsafe (ulong Start, Parameters Parameters) Read(ulong lea)
    {
        byte* d = (byte*)lea + DataOffset;
        bool plain = (d[5] & PlainCopyBit) != 0;
        int keeper = d[5] & 0x1f;
        ulong start = plain ? lea - PlainPrefix : lea;
        var p = new Parameters(d[0] | d[1] << 8 | d[2] << 16, start - (ulong)(d[3] | d[4] << 8), plain,
            keeper == 0 ? Register.None : Register.RAX + (keeper - 1));
        return (start, p);
    }
}
