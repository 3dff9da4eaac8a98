namespace Checker.Engine.CodeCache;

/// <summary>
/// A translated basic block: single entry, one or more exits. Just before <see cref="Entry"/> lies
/// its <see cref="IndirectEntry"/>, where the indirect-branch lookups enter.
/// </summary>
/// <remarks>
/// One lives per translation for the whole run (cc1plus: 130K), so the fields are as narrow as their
/// values allow (64 bytes an object, was 88, and 72 with a reference to the maps): the end as a length, the exit and instruction counts
/// (a block has at most <see cref="Translation.BlockTranslator.MaxBlockInstructions"/> instructions) and the mode in 16 and 8 bits.
/// </remarks>
public sealed class Fragment(ulong applicationPc, ulong applicationEnd, ulong entry, int size)
{
    private readonly uint _length = checked((uint)(applicationEnd - applicationPc));
    private ushort _exitCount, _instructionCount;
    private byte _mode;

    public ulong ApplicationPc { get; } = applicationPc;
    /// <summary>One past the last application byte translated into this fragment.</summary>
    public ulong ApplicationEnd => ApplicationPc + _length;
    public ulong Entry { get; } = entry;
    /// <summary>Where the indirect-branch table points: code that restores guest rax and rcx from the lookup's slots, then falls into <see cref="Entry"/>.</summary>
    public ulong IndirectEntry => Entry - Emission.IndirectBranchEmitter.IndirectEntrySize;
    /// <summary>Whether its code may read the status flags before writing them (<see cref="Translation.Liveness.FlagsLiveAtEntry"/>).</summary>
    public bool FlagsLiveAtEntry { get; init; }
    /// <summary>
    /// What the indirect-branch table names: the indirect entry, or the marker byte before it (a NOP)
    /// when the flags are live at entry, so an indirect jmp's lookup knows to give them back
    /// (<see cref="Emission.IndirectBranchEmitter.MarkerSize"/>).
    /// </summary>
    public ulong LookupEntry => FlagsLiveAtEntry ? IndirectEntry - Emission.IndirectBranchEmitter.MarkerSize : IndirectEntry;
    public int Size { get; } = size;
    /// <summary>Its place in the cache's fragments in address order (<see cref="TranslationCache.FragmentAt"/>), set when it is added; exits name fragments by it.</summary>
    public int Number { get; internal set; } = ExitStub.NoFragment;
    /// <summary>Its exits' ids: consecutive, as the translator takes them (set once when the fragment is finished; see <see cref="TranslationCache.Exit"/>).</summary>
    public int FirstExit { get; private set; }
    public int ExitCount => _exitCount;

    /// <summary>Sets the fragment's exits (once, when it is finished).</summary>
    public void SetExits(int first, int count) => (FirstExit, _exitCount) = (first, checked((ushort)count));

    /// <summary>The id of the first of the exits of other fragments that jump straight here (a list through <see cref="ExitStub.NextIncoming"/>; <see cref="ExitStub.None"/>: none); unlinked when this fragment is flushed.</summary>
    public int FirstIncoming { get; set; } = ExitStub.None;

    /// <summary>Whether any exit links here.</summary>
    public bool HasIncomingLinks => FirstIncoming != ExitStub.None;
    public bool Flushed { get; set; }
    /// <summary>
    /// The tool's translation mode this fragment was built for (<see cref="Tools.Tool.ModeOf"/>): 0,
    /// the common one, sits in the indirect-branch table; fragments link only to fragments of their
    /// own mode, and other modes' indirect branches exit to the dispatcher, which picks the mode again.
    /// </summary>
    public int Mode { get => _mode; init => _mode = checked((byte)value); }

    /// <summary>
    /// Where its guest instructions' entries start in the cache's <see cref="InstructionMaps"/> and
    /// how many there are: per instruction, where its translation starts (offset from
    /// <see cref="Entry"/>), its length, and the general register, in hardware numbering, whose guest
    /// value lives in gs:[HeldScratch] while that instruction's checks and the instruction itself run.
    /// The maps are the caller's to pass: a fragment holds no reference, so the collector never
    /// scans the hundred thousand of them a large program keeps.
    /// </summary>
    public int MapStart { get; private set; }
    public int InstructionCount => _instructionCount;

    /// <summary>Sets the instruction map (once, when the fragment is finished).</summary>
    public void SetInstructionMap(int start, int count) => (MapStart, _instructionCount) = (start, checked((ushort)count));

    /// <summary>The application pc of the guest instruction whose translation contains <paramref name="cachePc"/>.</summary>
    public ulong ApplicationPcAt(InstructionMaps maps, ulong cachePc)
    {
        int i = InstructionIndexAt(maps, cachePc);
        ulong pc = ApplicationPc;
        for (int k = 0; k < i; k++) pc += (ulong)maps.Length(MapStart + k);
        return pc;
    }

    /// <summary>The register held in gs:[HeldScratch] at <paramref name="cachePc"/> (-1: none).</summary>
    public int HeldRegisterAt(InstructionMaps maps, ulong cachePc)
    {
        int i = InstructionIndexAt(maps, cachePc);
        return i >= 0 ? maps.Held(MapStart + i) : -1;
    }

    private int InstructionIndexAt(InstructionMaps maps, ulong cachePc)
    {
        long offset = (long)(cachePc - Entry);
        int found = -1;
        for (int i = 0; i < InstructionCount && maps.Offset(MapStart + i) <= offset; i++) found = i;
        return found;
    }

    public bool Overlaps(ulong start, ulong end) => ApplicationPc < end && start < ApplicationEnd;
}
