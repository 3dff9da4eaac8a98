using Checker.Engine.Emission;

namespace Checker.Engine.CodeCache;

/// <summary>
/// The stubs of direct exits (<c>mov dword gs:[ExitId], id; jmp Exit</c>, 17 bytes), out of the
/// fragments: once its exit is linked a stub is dead code, and between the fragments' bodies it
/// spread the hot code over more lines and pages (cc1plus: 111 bytes a fragment of 570, while
/// 400 bytes of padding after each fragment cost it 7-12%). Exit <c>id</c>'s stub is at
/// <c>start + 17 * id</c>: nothing to allocate or keep, and a persisted snapshot's exits get
/// theirs back by rewriting them (<see cref="Rewrite"/>). Exits past the area's capacity keep
/// their stub in the fragment (<see cref="Emit"/>).
/// </summary>
public sealed unsafe class ExitStubArea
{
    public const int StubSize = 17;

    /// <summary>Stubs the area holds: 2^20 (17 MB of the region; cc1plus makes ~800K exits).</summary>
    public const int DefaultCapacity = 1 << 20;

    /// <summary>The encoding of <c>mov dword gs:[ExitId], imm32</c> without its immediate.</summary>
    private static readonly byte[] Prefix = EncodePrefix();

    private static byte[] EncodePrefix()
    {
        var scratch = new CodeBuffer(0);
        scratch.Encode(ContextOperand.StoreExitId(0));
        if (scratch.Length + 5 != StubSize) throw new InvalidOperationException($"an exit stub is {scratch.Length + 5} bytes, not {StubSize}");
        return scratch.Bytes[..^4].ToArray();
    }

    private readonly ulong _exitRoutine;

    public ExitStubArea(CodeRegion region, ulong exitRoutine, int capacity = DefaultCapacity)
    {
        Capacity = capacity;
        // Small pages: a stub runs until its exit is linked, so huge pages would buy no iTLB reach,
        // and /bin/true's few thousand stubs would take a whole 2 MB page.
        Start = region.AllocateSparseData((ulong)capacity * StubSize);
        _exitRoutine = exitRoutine;
    }

    public ulong Start { get; }
    public int Capacity { get; }
    public ulong End => Start + (ulong)Capacity * StubSize;

    public bool Contains(ulong address) => address >= Start && address < End;

    /// <summary>The stubs written so far (their ids are consecutive from 0: exits are numbered in order).</summary>
    public int Count { get; private set; }

    /// <summary>Writes exit <paramref name="id"/>'s stub in the area and gives its address; false when the area has no room for it.</summary>
    public bool TryPlace(int id, out ulong stub)
    {
        stub = 0;
        if ((uint)id >= (uint)Capacity) return false;
        stub = Start + (ulong)id * StubSize;
        if (stub >= Start + PopulateFrom) PopulateAhead(stub);
        Span<byte> bytes = stackalloc byte[StubSize];
        Encode(bytes, id, stub, _exitRoutine);
        CodeRegion.Write(stub, bytes);
        Count = Math.Max(Count, id + 1);
        return true;
    }

    // Exits are numbered in order, so stubs fill the area upwards: past the first megabyte (a small
    // program's stubs stay on the pages it touches) the next stretch is faulted in on the other core
    // (BackgroundPopulation), not a 4 KB page fault every 240 stubs (cc1plus: ~2,300 of them, ~10 us
    // each on this VM).
    private const ulong PopulateFrom = 1 << 20, PopulateStep = 256 << 10, PopulateLead = 128 << 10;
    private ulong _populatedTo;

    private void PopulateAhead(ulong stub)
    {
        if (_populatedTo < stub) _populatedTo = (stub + PopulateStep - 1) & ~(PopulateStep - 1);
        while (stub + PopulateLead > _populatedTo && _populatedTo < End)
        {
            Native.BackgroundPopulation.Shared.Request(_populatedTo, Math.Min(PopulateStep, End - _populatedTo));
            _populatedTo += PopulateStep;
        }
    }

    /// <summary>Exit <paramref name="id"/>'s stub written again (its snapshot's exits come back with their stub addresses).</summary>
    public void Rewrite(int id) => TryPlace(id, out _);

    /// <summary>An exit's stub in the fragment's own code (an exit past the area's capacity).</summary>
    public static void Emit(CodeBuffer code, int id, ulong exitRoutine)
    {
        Span<byte> bytes = stackalloc byte[StubSize];
        Encode(bytes, id, code.CurrentAddress, exitRoutine);
        code.Raw(bytes);
    }

    private static void Encode(Span<byte> bytes, int id, ulong at, ulong exitRoutine)
    {
        Prefix.CopyTo(bytes);
        BitConverter.TryWriteBytes(bytes[Prefix.Length..], id);
        bytes[Prefix.Length + 4] = 0xE9;
        BitConverter.TryWriteBytes(bytes[(Prefix.Length + 5)..], Rel32.Displacement(at + StubSize, exitRoutine));
    }
}
