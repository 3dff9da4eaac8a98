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
    /// <summary>Its exits (set once when the fragment is finished).</summary>
    public ExitStub[] Exits { get; set; } = [];
    /// <summary>Exits of other fragments that jump straight here; unlinked when this fragment is flushed (made at the first link).</summary>
    public List<ExitStub> IncomingLinks => _incomingLinks ??= [];
    private List<ExitStub>? _incomingLinks;

    /// <summary>Whether any exit links here (without making the list).</summary>
    public bool HasIncomingLinks => _incomingLinks is { Count: > 0 };
    public bool Flushed { get; set; }
    /// <summary>
    /// The tool's translation mode this fragment was built for (<see cref="Tools.Tool.ModeOf"/>): 0,
    /// the common one, sits in the indirect-branch table; fragments link only to fragments of their
    /// own mode, and other modes' indirect branches exit to the dispatcher, which picks the mode again.
    /// </summary>
    public int Mode { get; init; }

    /// <summary>For each guest instruction: its application pc and where its translation starts (offset from <see cref="Entry"/>).</summary>
    public (ulong[] Pcs, int[] Offsets) InstructionMap { get; set; } = ([], []);

    /// <summary>
    /// Per guest instruction (parallel to <see cref="InstructionMap"/>): the general register, in
    /// hardware numbering, whose guest value lives in gs:[HeldScratch] while that instruction's
    /// checks and the instruction itself run (-1: none). Null when no instruction holds one.
    /// </summary>
    public sbyte[]? HeldRegisters { get; set; }

    /// <summary>The application pc of the guest instruction whose translation contains <paramref name="cachePc"/>.</summary>
    public ulong ApplicationPcAt(ulong cachePc)
    {
        int i = InstructionIndexAt(cachePc);
        return i < 0 ? ApplicationPc : InstructionMap.Pcs[i];
    }

    /// <summary>The register held in gs:[HeldScratch] at <paramref name="cachePc"/> (-1: none).</summary>
    public int HeldRegisterAt(ulong cachePc)
    {
        int i = InstructionIndexAt(cachePc);
        return HeldRegisters is { } held && i >= 0 && i < held.Length ? held[i] : -1;
    }

    private int InstructionIndexAt(ulong cachePc)
    {
        int[] offsets = InstructionMap.Offsets;
        long offset = (long)(cachePc - Entry);
        int found = -1;
        for (int i = 0; i < offsets.Length && offsets[i] <= offset; i++) found = i;
        return found;
    }

    public bool Overlaps(ulong start, ulong end) => ApplicationPc < end && start < ApplicationEnd;
}
