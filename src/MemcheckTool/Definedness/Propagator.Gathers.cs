using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// Gathers and scatters lane by lane (their memory operand is a vector of addresses, which the
/// pessimistic default cannot follow): each active lane moves the shadow of the element it loads or
/// stores. A lane whose mask bit or index element is undefined gets an undefined result.
/// </summary>
internal sealed unsafe partial class Propagator
{
    /// <summary>
    /// vpgather*/vgather*: an active lane takes the shadow of memory at its address; a masked-off lane
    /// keeps the destination's; lanes past the index's are zeroed (defined). The mask is cleared by
    /// the instruction (AVX-512: k; AVX2: the whole mask vector), so it becomes defined.
    /// </summary>
    private void Gather(ContextBlock* c, in Instruction ins)
    {
        (int lanes, int element, int indexBytes) = VsibLanes.Shape(ins);
        (ulong active, ulong unknown) = VsibLanes.Mask(c, ins, lanes, element);
        Span<byte> index = stackalloc byte[64], indexShadow = stackalloc byte[64], result = stackalloc byte[64];
        GuestValues.Read(c, ins.MemoryIndex, index);
        ShadowRegisters.Read(c, ins.MemoryIndex, indexShadow);
        Register destination = ins.Op0Register;
        ShadowRegisters.Read(c, destination, result);
        for (int i = 0; i < lanes; i++)
        {
            Span<byte> lane = result.Slice(i * element, element);
            if (((unknown >> i) & 1) != 0 || ((active >> i) & 1) != 0 && VsibLanes.IndexUndefined(indexShadow, i, indexBytes))
            {
                lane.Fill(0xff);
                continue;
            }
            if (((active >> i) & 1) == 0) continue;
            ulong address = VsibLanes.Address(c, ins, index, i, indexBytes);
            memory.Read(address, lane);
            if (origins != null && _origin == 0 && Any(lane)) _origin = origins.OfMemory(address);
        }
        result[(lanes * element)..].Clear();
        ShadowRegisters.Write(c, destination, result[..destination.Bytes()], zeroUpper: true);
        Register maskVector = VsibLanes.MaskVector(ins);
        if (maskVector != Register.None) ShadowRegisters.Write(c, maskVector, stackalloc byte[maskVector.Bytes()], zeroUpper: true);
        else if (ins.OpMask != Register.None) ShadowRegisters.Define(c, ins.OpMask);
    }

    /// <summary>
    /// vpscatter*/vscatter*: each lane the mask selects writes the source element's shadow at its
    /// address, lowest lane first (as the hardware orders overlapping writes); undefined when its
    /// mask bit or index element is. k is cleared: defined.
    /// </summary>
    private void Scatter(ContextBlock* c, in Instruction ins)
    {
        (int lanes, int element, int indexBytes) = VsibLanes.Shape(ins);
        (ulong active, ulong unknown) = VsibLanes.Mask(c, ins, lanes, element);
        Span<byte> index = stackalloc byte[64], indexShadow = stackalloc byte[64], source = stackalloc byte[64], lane = stackalloc byte[8];
        GuestValues.Read(c, ins.MemoryIndex, index);
        ShadowRegisters.Read(c, ins.MemoryIndex, indexShadow);
        ShadowRegisters.Read(c, ins.Op1Register, source);
        for (int i = 0; i < lanes; i++)
        {
            if (((active >> i) & 1) == 0) continue;
            Span<byte> bytes = lane[..element];
            source.Slice(i * element, element).CopyTo(bytes);
            if (((unknown >> i) & 1) != 0 || VsibLanes.IndexUndefined(indexShadow, i, indexBytes)) bytes.Fill(0xff);
            ulong address = VsibLanes.Address(c, ins, index, i, indexBytes);
            memory.Write(address, bytes);
            if (origins != null && Any(bytes)) origins.Stored(address, element, _origin);
        }
        if (ins.OpMask != Register.None) ShadowRegisters.Define(c, ins.OpMask);
    }
}
