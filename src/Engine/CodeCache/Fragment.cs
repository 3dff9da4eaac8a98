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

    /// <summary>For each guest instruction: its application pc and where its translation starts (offset from <see cref="Entry"/>).</summary>
    public (ulong[] Pcs, int[] Offsets) InstructionMap { get; set; } = ([], []);

    /// <summary>The application pc of the guest instruction whose translation contains <paramref name="cachePc"/>.</summary>
    public ulong ApplicationPcAt(ulong cachePc)
    {
        (ulong[] pcs, int[] offsets) = InstructionMap;
        long offset = (long)(cachePc - Entry);
        ulong pc = ApplicationPc;
        for (int i = 0; i < offsets.Length && offsets[i] <= offset; i++) pc = pcs[i];
        return pc;
    }

    public bool Overlaps(ulong start, ulong end) => ApplicationPc < end && start < ApplicationEnd;
}
