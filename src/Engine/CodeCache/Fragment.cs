namespace Checker.Engine.CodeCache;

/// <summary>
/// A translated basic block: single entry, one or more exits. The 8 bytes before <see cref="Entry"/>
/// hold the negated application pc (read by the indirect-branch lookup).
/// </summary>
public sealed class Fragment(ulong applicationPc, ulong applicationEnd, ulong entry, int size)
{
    public ulong ApplicationPc { get; } = applicationPc;
    /// <summary>One past the last application byte translated into this fragment.</summary>
    public ulong ApplicationEnd { get; } = applicationEnd;
    public ulong Entry { get; } = entry;
    public int Size { get; } = size;
    public List<ExitStub> Exits { get; } = [];
    /// <summary>Exits of other fragments that jump straight here; unlinked when this fragment is flushed.</summary>
    public List<ExitStub> IncomingLinks { get; } = [];
    public bool Flushed { get; set; }

    public bool Overlaps(ulong start, ulong end) => ApplicationPc < end && start < ApplicationEnd;
}
