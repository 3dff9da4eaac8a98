using System.Runtime.Versioning;
using Checker.Engine.Native;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The undefined bits of the heap's partly defined bytes (shadow lanes 10), one byte per heap byte
/// in a MAP_NORESERVE mapping as large as the heap arena, beside it: the shadow move routine reads
/// and writes them (a bitfield's byte loaded or stored) without leaving the code cache, where a
/// side table only C# could reach cost a tool exit each (cc1plus: ~160K). Only pages whose heap
/// bytes were ever partly defined are resident (cc1plus: a few hundred live at a time). A byte here
/// means something only while its lane is 10: writers store it before the lane, and nothing clears it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class HeapVBits
{
    private readonly ulong _start, _end, _table;

    public HeapVBits(ulong arenaStart, ulong arenaEnd)
    {
        _start = arenaStart;
        _end = arenaEnd;
        _table = HostMemory.MapAnonymous(0, arenaEnd - arenaStart, LibC.ProtRead | LibC.ProtWrite, noReserve: true);
    }

    /// <summary>Added to a heap address, the address of its byte here (wraps around: an unsigned sum).</summary>
    public ulong Bias => _table - _start;

    public bool Covers(ulong address) => address >= _start && address < _end;

    public byte this[ulong address]
    {
        get => *(byte*)(address + Bias);
        set => *(byte*)(address + Bias) = value;
    }
}
