using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The guest's register values as the context block holds them after an exit (general registers
/// in their slots, vector and k registers in the XSAVE image), and memory read without faulting:
/// what the propagating mode needs besides the shadows (addresses, shift counts, the defined bits of
/// an and/or operand, the condition of a cmov).
/// </summary>
internal static unsafe class GuestValues
{
    // XSAVE standard format (offsets from CPUID: the AVX-512 components sit elsewhere on AMD than on
    // Intel); XSTATE_BV says which components were saved (a component in its initial state reads as zeros).
    private const int Xmm = XsaveLayout.Xmm, XstateBv = XsaveLayout.StateMask;
    private static readonly int YmmHigh = XsaveLayout.YmmHigh, Opmask = XsaveLayout.Opmask,
        ZmmHigh = XsaveLayout.ZmmHigh, Hi16Zmm = XsaveLayout.Hi16Zmm;

    public static ulong Gpr(ContextBlock* c, Register register)
    {
        ulong value = c->Gpr[register.Full() - Register.RAX];
        return register.Bytes() switch
        {
            4 => (uint)value,
            2 => (ushort)value,
            1 when register is >= Register.AH and <= Register.BH => (byte)(value >> 8),
            1 => (byte)value,
            _ => value,
        };
    }

    /// <summary>The value of a general, vector or k register (its own size) into <paramref name="into"/>; other registers read as zero.</summary>
    public static void Read(ContextBlock* c, Register register, Span<byte> into)
    {
        into.Clear();
        if (register.IsGPR())
        {
            // Byte by byte: BitConverter.TryWriteBytes writes nothing into a span shorter than 8.
            ulong v = Gpr(c, register);
            for (int i = 0; i < Math.Min(8, into.Length); i++) into[i] = (byte)(v >> (8 * i));
            return;
        }
        byte* x = c->XsaveArea;
        ulong saved = *(ulong*)(x + XstateBv);
        if (register.IsK())
        {
            if ((saved & (1 << 5)) == 0) return;
            ulong k = *(ulong*)(x + Opmask + 8 * (register - Register.K0));
            for (int i = 0; i < Math.Min(8, into.Length); i++) into[i] = (byte)(k >> (8 * i));
            return;
        }
        if (!(register.IsXMM() || register.IsYMM() || register.IsZMM())) return;
        int n = register.Number(), size = Math.Min(register.Bytes(), into.Length);
        Span<byte> full = stackalloc byte[64];
        full.Clear();
        if (n < 16)
        {
            if ((saved & 2) != 0) new ReadOnlySpan<byte>(x + Xmm + 16 * n, 16).CopyTo(full);
            if ((saved & 4) != 0) new ReadOnlySpan<byte>(x + YmmHigh + 16 * n, 16).CopyTo(full[16..]);
            if ((saved & (1 << 6)) != 0) new ReadOnlySpan<byte>(x + ZmmHigh + 32 * n, 32).CopyTo(full[32..]);
        }
        else if ((saved & (1 << 7)) != 0) new ReadOnlySpan<byte>(x + Hi16Zmm + 64 * (n - 16), 64).CopyTo(full);
        full[..size].CopyTo(into);
    }

    /// <summary>The address of <paramref name="ins"/>'s memory operand (no VSIB), from the guest registers.</summary>
    public static ulong Address(ContextBlock* c, in Instruction ins)
    {
        ulong address = (ulong)ins.MemoryDisplacement64;
        if (ins.IsIPRelativeMemoryOperand) return ins.IPRelativeMemoryAddress;
        if (ins.MemoryBase != Register.None) address += Gpr(c, ins.MemoryBase);
        if (ins.MemoryIndex != Register.None && ins.MemoryIndex.IsGPR()) address += Gpr(c, ins.MemoryIndex) * (ulong)ins.MemoryIndexScale;
        if (ins.SegmentPrefix == Register.FS) address += c->GuestFsBase;
        else if (ins.SegmentPrefix == Register.GS) address += c->GuestGsBase;
        return ins.MemoryBase.IsGPR32() || ins.MemoryIndex.IsGPR32() ? (uint)address : address;
    }

    /// <summary>Guest memory, or false when it cannot be read (the access itself faults, natively as here).</summary>
    public static bool TryReadMemory(ulong address, Span<byte> into) => GuestMemory.TryRead(address, into);
}
