using System.Runtime.InteropServices;

namespace Checker.Engine.CodeCache;

/// <summary>
/// The cache's side of persisted translations (<see cref="PersistedTranslations"/>): its fragments,
/// exits and tables written as they are, and read back as dormant fragments, which keep their
/// numbers, exit ids and code addresses, so nothing in the code or the tables needs relocating.
/// </summary>
public sealed unsafe partial class TranslationCache
{
    /// <summary>Translations of earlier runs, when persisting is on (null otherwise).</summary>
    public PersistedTranslations? Persisted { get; internal set; }

    /// <summary>Every fragment ever added (dormant and flushed ones too): the numbers are 0 .. this - 1.</summary>
    internal int AddressCount => _addressCount;

    /// <summary>
    /// Takes a persisted fragment of <paramref name="applicationPc"/> into use when its guest code is
    /// still what it was translated from (under the lock); false: translate it.
    /// </summary>
    public bool TryActivate(ulong applicationPc, int mode, out Fragment fragment)
    {
        fragment = null!;
        return Persisted != null && Persisted.TryActivate(this, applicationPc, mode, out fragment);
    }

    /// <summary>
    /// Stands in the fragment list for a persisted fragment not yet taken into use: flushed, no code,
    /// no exits, so nothing links to it, leaves from it or finds it by cache address.
    /// </summary>
    internal static readonly Fragment Dormant = new(0, 1, 0, 0) { Flushed = true };

    /// <summary>Persisted fragment <paramref name="number"/> made and put in the index, as <see cref="Add"/> puts a new one.</summary>
    internal Fragment Activate(int number, in PersistedFragment record)
    {
        // The marker byte before its indirect entry says whether the flags are live at its entry.
        bool flagsLive = *(byte*)(record.Entry - Emission.IndirectBranchEmitter.IndirectEntrySize - Emission.IndirectBranchEmitter.MarkerSize)
            == Emission.IndirectBranchEmitter.FlagsLiveMarker;
        var fragment = new Fragment(record.Pc, record.Pc + record.Length, record.Entry, record.Size) { Mode = record.Mode, Number = number, FlagsLiveAtEntry = flagsLive };
        fragment.SetExits(record.FirstExit, record.ExitCount);
        fragment.SetInstructionMap(record.MapStart, record.InstructionCount);
        _byAddress[number >> AddressChunkBits][number & (AddressChunkSize - 1)] = fragment;
        _entryFilter.Add(fragment.ApplicationPc);
        if (fragment.Mode != 0) _variants[(fragment.ApplicationPc, fragment.Mode)] = fragment;
        else if (_index.Set(fragment.ApplicationPc, fragment.Number)) _fragmentCount++;
        for (ulong page = fragment.ApplicationPc >> 12; page <= (fragment.ApplicationEnd - 1) >> 12; page++)
        {
            if (!_byPage.TryGetValue(page, out List<Fragment>? list)) _byPage[page] = list = [];
            list.Add(fragment);
        }
        Statistics.FragmentsReused++;
        return fragment;
    }

    /// <summary>Whether the fragment leaves through a replaced function's exit (whose replacement lives in this run only).</summary>
    internal bool HasInterceptExit(Fragment fragment)
    {
        for (int id = fragment.FirstExit; id < fragment.FirstExit + fragment.ExitCount; id++)
            if (ExitAt(id).Kind == ExitKind.Intercept) return true;
        return false;
    }

    /// <summary>Each fragment's record by number, as <paramref name="persisted"/> decides it.</summary>
    internal PersistedFragment[] PersistedRecords(Func<Fragment, int, PersistedFragment> persisted)
    {
        var records = new PersistedFragment[_addressCount];
        for (int number = 0; number < _addressCount; number++) records[number] = persisted(FragmentAt(number), number);
        return records;
    }

    /// <summary>The records, exits, fault exits, the modes' tables and the instruction maps, as they are now.</summary>
    internal void SaveState(BinaryWriter writer, PersistedFragment[] records)
    {
        if (records.Length != _addressCount) throw new ArgumentException("one record per fragment", nameof(records));
        writer.Write(records.Length);
        writer.Write(MemoryMarshal.AsBytes(records.AsSpan()));
        writer.Write(_exitCount);
        for (int c = 0; c << ExitChunkBits < _exitCount; c++)
        {
            int length = Math.Min(1 << ExitChunkBits, _exitCount - (c << ExitChunkBits));
            writer.Write(MemoryMarshal.AsBytes(_exitChunks[c].AsSpan(0, length)));
        }
        writer.Write(_faults.Count);
        foreach ((int id, (ulong pc, int signal)) in _faults)
        {
            writer.Write(id);
            writer.Write(pc);
            writer.Write(signal);
        }
        writer.Write(_modeTables.Count);
        foreach ((int mode, IndirectBranchTable table) in _modeTables)
        {
            writer.Write(mode);
            writer.Write(table.Address);
        }
        InstructionMaps.Save(writer);
    }

    /// <summary>
    /// Reads what <see cref="SaveState"/> wrote into this fresh cache, whose region already holds the
    /// snapshot's code up to <paramref name="codeEnd"/>: every fragment comes back dormant (flushed
    /// until <see cref="Activate"/>, <see cref="Dormant"/> in the list), every link undone. Returns the
    /// fragments' records by number. Nothing changes unless everything was read and
    /// <paramref name="complete"/> (the file's end) holds.
    /// </summary>
    internal PersistedFragment[] LoadState(BinaryReader reader, ulong codeStart, ulong codeEnd, Func<BinaryReader, bool> complete)
    {
        if (_addressCount != 0 || _exitCount != 0) throw new InvalidOperationException("the cache is in use already");
        int count = reader.ReadInt32();
        if (count < 0) throw new InvalidDataException("fragment count");
        var records = new PersistedFragment[count];
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(records.AsSpan()));
        ulong previous = codeStart;
        foreach (ref readonly PersistedFragment r in records.AsSpan())
        {
            if (r.Usable && (r.Entry > codeEnd || r.Size <= 0 || r.Length == 0))
                throw new InvalidDataException("fragment outside the persisted code");
            // Every record, usable or not, keeps its place: FindByCachePc binary-searches the entries.
            if (r.Entry < previous) throw new InvalidDataException("fragments out of address order");
            previous = r.Entry;
        }
        int exits = reader.ReadInt32();
        if (exits < 0) throw new InvalidDataException("exit count");
        var chunks = new List<ExitStub[]>();
        for (int c = 0; c << ExitChunkBits < exits; c++)
        {
            var chunk = new ExitStub[1 << ExitChunkBits];
            int length = Math.Min(chunk.Length, exits - (c << ExitChunkBits));
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(chunk.AsSpan(0, length)));
            chunks.Add(chunk);
        }
        var faults = new Dictionary<int, (ulong Pc, int Signal)>();
        for (int n = reader.ReadInt32(); n > 0; n--) faults[reader.ReadInt32()] = (reader.ReadUInt64(), reader.ReadInt32());
        var tables = new List<(int Mode, ulong Address)>();
        for (int n = reader.ReadInt32(); n > 0; n--) tables.Add((reader.ReadInt32(), reader.ReadUInt64()));
        foreach ((int mode, ulong address) in tables)
            if (mode <= 0 || address < codeStart || address + IndirectBranchTable.ByteSize > codeEnd) throw new InvalidDataException("indirect-branch table outside the persisted code");
        foreach (ref readonly PersistedFragment r in records.AsSpan())
            if (r.Usable && r.FirstExit + r.ExitCount > exits) throw new InvalidDataException("fragment exits");
        (uint[][] mapChunks, int mapCount) = InstructionMaps.Read(reader);
        foreach (ref readonly PersistedFragment r in records.AsSpan())
            if (r.Usable && r.MapStart + r.InstructionCount > mapCount) throw new InvalidDataException("fragment instruction map");
        if (!complete(reader)) throw new InvalidDataException("truncated snapshot");
        InstructionMaps.Adopt(mapChunks, mapCount);

        // All read: now the cache takes it, links undone (the code was saved with them in place).
        _exitChunks.AddRange(chunks);
        _exitCount = exits;
        for (int id = 0; id < exits; id++)
        {
            ref ExitStub exit = ref ExitAt(id);
            // Stubs in the stub area were not in the snapshot's code: written again where they were.
            if (ExitStubs.Contains(exit.StubAddress)) ExitStubs.Rewrite(id);
            // (a call's continuation store lies before its jmp, in the same fragment)
            if (exit.IsLinked && exit.PatchSite >= codeStart && exit.PatchSite + 4 <= codeEnd && (exit.ContinuationField is 0 || exit.ContinuationField >= codeStart))
                PointAtStub(ref exit);
            exit.LinkedNumber = ExitStub.NoFragment;
            exit.NextIncoming = ExitStub.None;
        }
        foreach ((int id, (ulong Pc, int Signal) fault) in faults) _faults[id] = fault;
        foreach ((int mode, ulong address) in tables) _modeTables[mode] = new IndirectBranchTable(address, mode);
        // Numbers kept (exits name fragments by them); entries kept in address order for FindByCachePc.
        foreach (ref readonly PersistedFragment r in records.AsSpan())
        {
            int slot = _addressCount & (AddressChunkSize - 1);
            if (slot == 0)
            {
                _byAddress.Add(new Fragment[AddressChunkSize]);
                _entries.Add(new ulong[AddressChunkSize]);
            }
            _byAddress[^1][slot] = Dormant;
            _entries[^1][slot] = r.Entry;
            _entryPages.Append(_addressCount, r.Entry);
            _addressCount++;
        }
        return records;
    }
}

/// <summary>A fragment as a snapshot keeps it (<see cref="TranslationCache.SaveState"/>); not <see cref="Usable"/>: never to be taken into use (its entry is kept: the entries stay in address order for FindByCachePc).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8)]
internal struct PersistedFragment
{
    public ulong Pc;
    public ulong Entry;
    /// <summary>The hash of the guest pages [Pc, Pc + Length) lie on, which its translation read (its bytes and what follows its exits).</summary>
    public ulong CodeHash;
    public uint Length;
    public int Size;
    public int FirstExit;
    public int MapStart;
    public ushort ExitCount;
    public ushort InstructionCount;
    public byte Mode;
    public bool Usable;

    public static PersistedFragment Of(Fragment f, ulong codeHash) => new()
    {
        Pc = f.ApplicationPc, Entry = f.Entry, CodeHash = codeHash, Length = (uint)(f.ApplicationEnd - f.ApplicationPc), Size = f.Size,
        FirstExit = f.FirstExit, MapStart = f.MapStart, ExitCount = (ushort)f.ExitCount, InstructionCount = (ushort)f.InstructionCount,
        Mode = (byte)f.Mode, Usable = true,
    };
}
