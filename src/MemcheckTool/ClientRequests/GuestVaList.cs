using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.Native;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// A va_list of the program, read as the x86-64 System V ABI lays it out: gp_offset and fp_offset
/// into the register save area (six 8-byte integer slots, then eight 16-byte vector slots), then
/// the overflow area on the stack. VALGRIND_PRINTF passes a pointer to its va_list. Reads go
/// through <see cref="GuestMemory"/>: a bad pointer gives 0, never a fault in memcheck. The
/// program's own va_list is left as it was (the request's caller ends it with va_end).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class GuestVaList : IVarArgs
{
    private const uint IntegerSlotsEnd = 48, VectorSlotsEnd = 176;
    private uint _gpOffset, _fpOffset;
    private ulong _overflow;
    private readonly ulong _saveArea;

    private GuestVaList(uint gpOffset, uint fpOffset, ulong overflow, ulong saveArea) =>
        (_gpOffset, _fpOffset, _overflow, _saveArea) = (gpOffset, fpOffset, overflow, saveArea);

    /// <summary>The va_list at <paramref name="address"/>, or null when it cannot be read.</summary>
    public static GuestVaList? At(ulong address)
    {
        Span<ulong> words = stackalloc ulong[3];
        if (!GuestMemory.TryRead(address, MemoryMarshal.AsBytes(words))) return null;
        return new GuestVaList((uint)words[0], (uint)(words[0] >> 32), words[1], words[2]);
    }

    public ulong NextInteger()
    {
        ulong at;
        if (_gpOffset + 8 <= IntegerSlotsEnd)
        {
            at = _saveArea + _gpOffset;
            _gpOffset += 8;
        }
        else
        {
            at = _overflow;
            _overflow += 8;
        }
        return GuestMemory.TryReadUInt64(at, out ulong value) ? value : 0;
    }

    public double NextDouble()
    {
        ulong at;
        if (_fpOffset + 16 <= VectorSlotsEnd)
        {
            at = _saveArea + _fpOffset;
            _fpOffset += 16;
        }
        else
        {
            at = _overflow;
            _overflow += 8;
        }
        return GuestMemory.TryReadUInt64(at, out ulong bits) ? BitConverter.UInt64BitsToDouble(bits) : 0;
    }
}
