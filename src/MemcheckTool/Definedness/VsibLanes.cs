using System.Buffers.Binary;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// A gather's or scatter's lanes as the propagating mode sees them (the same shape as the access
/// checks' <see cref="Instrumentation.VsibCheck"/>): how many lanes, which are active by the guest's
/// mask (the k register, or the sign bits of an AVX2 gather's mask vector), which mask bits are
/// undefined, and each lane's address from the base register, index element, scale and displacement.
/// </summary>
internal static unsafe class VsibLanes
{
    /// <summary>Lanes, element and index element sizes (bytes).</summary>
    public static (int Lanes, int Element, int IndexBytes) Shape(in Instruction ins)
    {
        Register data = ins.Op0Kind == OpKind.Memory ? ins.Op1Register : ins.Op0Register;
        int element = ins.MemorySize.GetSize(), indexBytes = ins.IsVsib32 ? 4 : 8;
        return (Math.Min(ins.MemoryIndex.Bytes() / indexBytes, data.Bytes() / element), element, indexBytes);
    }

    /// <summary>The AVX2 gathers' mask vector (their third operand), else <see cref="Register.None"/> (AVX-512: the k mask).</summary>
    public static Register MaskVector(in Instruction ins) => ins.OpMask == Register.None && ins.OpCount > 2 ? ins.Op2Register : Register.None;

    /// <summary>Lane bits active by the mask's value, and lane bits whose mask bit is undefined.</summary>
    public static (ulong Active, ulong Unknown) Mask(ContextBlock* c, in Instruction ins, int lanes, int element)
    {
        Span<byte> value = stackalloc byte[64], shadow = stackalloc byte[64];
        ulong active = 0, unknown = 0;
        if (ins.OpMask != Register.None)
        {
            GuestValues.Read(c, ins.OpMask, value[..8]);
            ShadowRegisters.Read(c, ins.OpMask, shadow[..8]);
            ulong bits = lanes >= 64 ? ulong.MaxValue : (1UL << lanes) - 1;
            return (BinaryPrimitives.ReadUInt64LittleEndian(value) & bits, BinaryPrimitives.ReadUInt64LittleEndian(shadow) & bits);
        }
        Register mask = MaskVector(ins);
        if (mask == Register.None) return (lanes >= 64 ? ulong.MaxValue : (1UL << lanes) - 1, 0);
        GuestValues.Read(c, mask, value);
        ShadowRegisters.Read(c, mask, shadow);
        for (int i = 0; i < lanes; i++)
        {
            int top = i * element + element - 1;
            if ((value[top] & 0x80) != 0) active |= 1UL << i;
            if ((shadow[top] & 0x80) != 0) unknown |= 1UL << i;
        }
        return (active, unknown);
    }

    /// <summary>Lane <paramref name="lane"/>'s address (<paramref name="index"/>: the index vector's value, its elements sign-extended).</summary>
    public static ulong Address(ContextBlock* c, in Instruction ins, ReadOnlySpan<byte> index, int lane, int indexBytes)
    {
        long element = indexBytes == 4
            ? BinaryPrimitives.ReadInt32LittleEndian(index[(lane * 4)..])
            : BinaryPrimitives.ReadInt64LittleEndian(index[(lane * 8)..]);
        ulong address = (ulong)ins.MemoryDisplacement64 + (ulong)(element * ins.MemoryIndexScale);
        if (ins.MemoryBase != Register.None) address += GuestValues.Gpr(c, ins.MemoryBase);
        return ins.MemoryBase.IsGPR32() ? (uint)address : address;
    }

    /// <summary>Whether index element <paramref name="lane"/> has an undefined bit.</summary>
    public static bool IndexUndefined(ReadOnlySpan<byte> indexShadow, int lane, int indexBytes) =>
        indexShadow.Slice(lane * indexBytes, indexBytes).ContainsAnyExcept((byte)0);
}
