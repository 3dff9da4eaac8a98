namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// A checked access in translated code, as the slow path names it (its index in
/// <see cref="AccessSiteTable"/> is written to the context block): the application instruction
/// and what it accesses; for a merged check, the accesses it stands for (<see cref="CheckPlanner"/>).
/// A value kept in the table's chunks: no object for the GC per site.
/// </summary>
public readonly record struct AccessSite(int Id, ulong Pc, CheckedAccess Access, IReadOnlyList<MergedAccess>? Parts = null)
{
    /// <summary>
    /// The register the site's check borrows and the context slot holding its guest value while the
    /// slow path runs (gs:[CheckSaveRcx] for a spilled rcx; 0: none, the register is dead there or
    /// held for the run): the propagating mode, entered at this site's instruction, must find the
    /// guest's value in it. A register held in gs:[HeldScratch] (this check's scratch or not) is
    /// given back by the dispatcher, from the fragment's map, whenever a tool exit leaves the fragment.
    /// </summary>
    public Iced.Intel.Register Scratch { get; init; } = Iced.Intel.Register.None;
    public int ScratchSlot { get; init; }

    /// <summary>
    /// A gather/scatter (<see cref="VsibCheck"/>): its routine reports bad lanes mid-loop and resumes, and only its
    /// final exit (<see cref="State.ToolExitReasons.GatherUndefined"/>) may send the thread to the propagating mode.
    /// </summary>
    public bool Vsib { get; init; }
}

/// <summary>Every access site of the code cache, by id. Added to under the cache lock; ids are never reused.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed unsafe class AccessSiteTable
{
    /// <summary>Sites with a native descriptor (the rest store their size and kind from their stubs).</summary>
    public const int DescriptorCapacity = 1 << 24;

    /// <summary>
    /// Per site, what the access check routine needs beyond the address: its size and check kind
    /// (two int32 at Descriptors + 8 * id), read by the routine's site entries, so a stub stores
    /// only the address, the site and its return (a reservation: only pages of sites touch memory).
    /// </summary>
    public ulong Descriptors { get; } = Checker.Engine.Native.HostMemory.MapAnonymous(0, 8UL * DescriptorCapacity,
        Checker.Engine.Native.LibC.ProtRead | Checker.Engine.Native.LibC.ProtWrite, noReserve: true);

    /// <summary>Writes site <paramref name="id"/>'s descriptor (before its stub can run); false past the capacity.</summary>
    public bool Describe(int id, int size, int kind)
    {
        if ((uint)id >= DescriptorCapacity) return false;
        if (8UL * (uint)id >= _populateAt) PopulateAhead(8UL * (uint)id);
        int* row = (int*)(Descriptors + 8UL * (uint)id);
        row[0] = size;
        row[1] = kind;
        return true;
    }

    // The descriptors' pages faulted in ahead of their first rows on the populating thread, past the
    // first 256 KB (a small program starts no thread for them): each fresh page's fault was taken
    // inside a stub's emission (cc1plus: ~730 pages, ~1.8% of checked translation).
    private const ulong PopulateStep = 128 << 10, PopulateFrom = 256 << 10;
    private ulong _populateAt = PopulateFrom, _populatedTo;

    // Under the cache lock (translation describes its sites), as the code region's requests are.
    private void PopulateAhead(ulong offset)
    {
        if (_populatedTo < offset) _populatedTo = (offset + PopulateStep - 1) & ~(PopulateStep - 1);
        ulong end = 8UL * DescriptorCapacity;
        if (_populatedTo < end)
        {
            Checker.Engine.Native.BackgroundPopulation.Shared.Request(Descriptors + _populatedTo, Math.Min(PopulateStep, end - _populatedTo));
            _populatedTo += PopulateStep;
        }
        _populateAt = _populatedTo - PopulateStep / 2;
    }

    // A site is stored as a 32-byte value without references (an AccessSite is 56 with its id and
    // the merged parts' list: cc1plus's 372K sites were 22 MB, in chunks the collector scanned);
    // the parts of the merged checks are in a table of their own (a dictionary by site id grew its
    // arrays onto the large-object heap), numbered from the site.
    private readonly State.AppendOnlyTable<Stored> _stored = new();
    private readonly State.AppendOnlyTable<IReadOnlyList<MergedAccess>> _parts = new();

    // Laid out in order (no references): 8 + 16 + 4 + 2 + 1 + 1 bytes.
    internal readonly struct Stored(ulong pc, CheckedAccess access, int parts, int scratchSlot, Iced.Intel.Register scratch, bool vsib)
    {
        public readonly ulong Pc = pc;
        public readonly CheckedAccess Access = access;
        /// <summary>The number of the merged parts + 1 (0: none).</summary>
        public readonly int Parts = parts;
        private readonly ushort _scratchSlot = checked((ushort)scratchSlot);
        private readonly byte _scratch = checked((byte)scratch);
        public readonly bool Vsib = vsib;
        public int ScratchSlot => _scratchSlot;
        public Iced.Intel.Register Scratch => (Iced.Intel.Register)_scratch;
    }

    /// <summary>A new site (under the cache lock: one writer at a time; read from any thread).</summary>
    public AccessSite Add(ulong pc, CheckedAccess access, IReadOnlyList<MergedAccess>? parts = null,
        Iced.Intel.Register scratch = Iced.Intel.Register.None, int scratchSlot = 0, bool vsib = false)
    {
        int partsNumber = parts != null ? _parts.Add(parts) + 1 : 0;
        int id = _stored.Add(new Stored(pc, access, partsNumber, scratchSlot, scratch, vsib));
        return new AccessSite(id, pc, access, parts) { Scratch = scratch, ScratchSlot = scratchSlot, Vsib = vsib };
    }

    public AccessSite this[int id]
    {
        get
        {
            ref readonly Stored site = ref _stored[id];
            IReadOnlyList<MergedAccess>? parts = site.Parts == 0 ? null : _parts[site.Parts - 1];
            return new AccessSite(id, site.Pc, site.Access, parts) { Scratch = site.Scratch, ScratchSlot = site.ScratchSlot, Vsib = site.Vsib };
        }
    }

    public int Count => _stored.Count;

    /// <summary>A persisted table: the sites as stored, their merged parts, the descriptors' rows.</summary>
    public sealed class Snapshot
    {
        internal Stored[] Sites = [];
        internal MergedAccess[][] Parts = [];
        internal byte[] Rows = [];
    }

    /// <summary>Every site so far (persisted code names them by id), for the next run (under the cache lock: none being added).</summary>
    public void Save(BinaryWriter writer)
    {
        int count = _stored.Count;
        writer.Write(count);
        foreach (ReadOnlyMemory<Stored> chunk in _stored.Chunks())
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(chunk.Span));
        writer.Write(_parts.Count);
        foreach (ReadOnlyMemory<IReadOnlyList<MergedAccess>> chunk in _parts.Chunks())
            foreach (IReadOnlyList<MergedAccess> parts in chunk.Span)
            {
                MergedAccess[] array = parts as MergedAccess[] ?? [.. parts];
                writer.Write(array.Length);
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan()));
            }
        writer.Write(new ReadOnlySpan<byte>((void*)Descriptors, 8 * Math.Min(count, DescriptorCapacity)));
    }

    /// <summary>Reads what <see cref="Save"/> wrote (nothing taken into use yet).</summary>
    public static Snapshot Read(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || (long)count * System.Runtime.CompilerServices.Unsafe.SizeOf<Stored>() > Remaining(reader)) throw new InvalidDataException("access sites: count");
        var s = new Snapshot { Sites = new Stored[count] };
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.Sites.AsSpan()));
        int partCount = reader.ReadInt32();
        if (partCount < 0 || 4L * partCount > Remaining(reader)) throw new InvalidDataException("access sites: parts");
        s.Parts = new MergedAccess[partCount][];
        for (int p = 0; p < partCount; p++)
        {
            int length = reader.ReadInt32();
            if (length is <= 0 or > 64) throw new InvalidDataException("access sites: merged parts");
            s.Parts[p] = new MergedAccess[length];
            reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.Parts[p].AsSpan()));
        }
        foreach (Stored site in s.Sites)
            if ((uint)site.Parts > (uint)partCount) throw new InvalidDataException("access sites: a site's parts");
        s.Rows = new byte[8 * Math.Min(count, DescriptorCapacity)];
        reader.BaseStream.ReadExactly(s.Rows);
        return s;
    }

    private static long Remaining(BinaryReader reader) =>
        reader.BaseStream.CanSeek ? reader.BaseStream.Length - reader.BaseStream.Position : long.MaxValue;

    /// <summary>Takes a snapshot into use (before any site is added): new sites get the ids after its.</summary>
    public void Restore(Snapshot s)
    {
        if (_stored.Count != 0 || _parts.Count != 0) throw new InvalidOperationException("the access site table is in use already");
        _parts.Restore(s.Parts);
        _stored.Restore(s.Sites);
        s.Rows.CopyTo(new Span<byte>((void*)Descriptors, s.Rows.Length));
    }
}
