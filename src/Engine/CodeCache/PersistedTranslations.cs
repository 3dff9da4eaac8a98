using System.IO.Hashing;
using System.Runtime.Versioning;
using System.Text;
using Checker.Engine.Memory;

namespace Checker.Engine.CodeCache;

/// <summary>
/// Translations kept across runs of the same program: at exit, the code the run translated (the
/// region from where the first translation went, links undone on reading) and the cache's state go to
/// a file; the next run with the same key reads them back right after its routines are made, at the
/// same addresses, so nothing needs relocating (the region, the routines and the tables land at the
/// same addresses in every run of one memcheck binary with the same options).
/// <para>
/// A read fragment stays dormant until the program first reaches its pc; it is taken into use only if
/// the guest bytes it was translated from are still there, executable (a hash of them, the block
/// being one contiguous range), and no replaced function starts there. Otherwise the pc is translated
/// as usual. Nothing is trusted by file or module name: a changed library, a library mapped
/// elsewhere, or code a JIT wrote differently simply fail the check.
/// </para>
/// <para>
/// Only tools that say what their translations depend on (<see cref="Tools.Tool.TranslationKey"/>)
/// take part: the key is that, memcheck's own binary, the options that change code, the program's path,
/// and where translation starts in the region.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class PersistedTranslations
{
    private const ulong Magic = 0x3130_544C_584B_4843;   // "CHKXLT01"
    private const int FormatVersion = 4;   // 2: direct exits' stubs in ExitStubArea; 3: 32-byte exits; 4: code hashed by pages

    private readonly string _path;
    private readonly string _key;
    private readonly ulong _codeStart;
    private readonly GuestMappings _mappings;
    private readonly Interception.FunctionInterceptor? _interceptor;
    // The tool's own state that its code names by id or jumps to (memcheck: sites, shared stubs).
    private readonly Tools.Tool _tool;
    // Dormant fragments by pc and mode (pc << 8 | mode: pcs have 48 bits) to their numbers, and the
    // loaded fragments' records by number.
    private Dictionary<ulong, int> _dormant = new();
    private PersistedFragment[] _records = [];
    private int _loadedLive;

    private PersistedTranslations(string path, string key, ulong codeStart, GuestMappings mappings, Interception.FunctionInterceptor? interceptor, Tools.Tool tool)
    {
        _tool = tool;
        _path = path;
        _key = key;
        _codeStart = codeStart;
        _mappings = mappings;
        _interceptor = interceptor;
    }

    /// <summary>The snapshot's file (it may not exist yet).</summary>
    public string FilePath => _path;
    /// <summary>Fragments read that were usable when saved.</summary>
    public int Loaded => _loadedLive;
    /// <summary>Why the file was not used, when it existed but was not (for --stats and tests).</summary>
    public string? LoadProblem { get; private set; }

    /// <summary>
    /// Sets persisting up for a fresh cache and reads the snapshot of <paramref name="keyParts"/> from
    /// <paramref name="directory"/> if there is one. Never fails the run: an unreadable, foreign or
    /// damaged file is ignored (and replaced at exit).
    /// </summary>
    public static PersistedTranslations Open(string directory, IEnumerable<string> keyParts, TranslationCache cache, GuestMappings mappings,
        Interception.FunctionInterceptor? interceptor, Tools.Tool tool)
    {
        ulong codeStart = cache.Region.Start + cache.Region.Used;
        string key = string.Join('\n', keyParts.Append($"format {FormatVersion}").Append($"code 0x{codeStart:x}"));
        ulong name = XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(key));
        var persisted = new PersistedTranslations(Path.Combine(directory, $"{name:x16}.xlt"), key, codeStart, mappings, interceptor, tool);
        cache.Persisted = persisted;
        if (File.Exists(persisted._path))
        {
            try { persisted.Load(cache); }
            catch (Exception e)
            {
                // Whatever the file holds, the run goes on without it (LoadState changes nothing unless all of it was read).
                persisted.LoadProblem = e.Message;
            }
        }
        return persisted;
    }

    private void Load(TranslationCache cache)
    {
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        if (reader.ReadUInt64() != Magic) throw new InvalidDataException("not a translation snapshot");
        if (reader.ReadString() != _key) throw new InvalidDataException("a snapshot of another key");
        ulong start = reader.ReadUInt64(), end = reader.ReadUInt64();
        if (start != _codeStart || end < start || end > cache.Region.CodeLimit) throw new InvalidDataException("the snapshot's code does not fit");
        // The code straight into the free region: nothing is allocated there until Restore.
        Native.HostMemory.Populate(start, end - start);
        stream.ReadExactly(new Span<byte>((void*)start, checked((int)(end - start))));
        // The tool's part first, read and checked without taking effect: a bad one leaves everything as it was.
        object? toolState = _tool.ReadTranslationState(reader);
        PersistedFragment[] records = cache.LoadState(reader, start, end, r => r.ReadUInt64() == Magic && r.BaseStream.Position == r.BaseStream.Length);
        _tool.RestoreTranslationState(toolState);
        cache.Region.Restore(end);
        _records = records;
        _dormant = new Dictionary<ulong, int>(records.Length);
        for (int number = 0; number < records.Length; number++)
            if (records[number].Usable) _dormant[Key(records[number].Pc, records[number].Mode)] = number;
        _loadedLive = _dormant.Count;
        cache.Statistics.FragmentsLoaded = _loadedLive;
    }

    private static ulong Key(ulong pc, int mode) => pc << 8 | (uint)mode;

    /// <summary>See <see cref="TranslationCache.TryActivate"/>.</summary>
    internal bool TryActivate(TranslationCache cache, ulong pc, int mode, out Fragment fragment)
    {
        fragment = null!;
        if (_dormant.Count == 0 || !_dormant.Remove(Key(pc, mode), out int number)) return false;
        ref PersistedFragment record = ref _records[number];
        if (!StillValid(record.Pc, record.Length, record.CodeHash) || Replaced(pc))
        {
            record.Usable = false;
            return false;
        }
        fragment = cache.Activate(number, record);
        return true;
    }

    private bool Replaced(ulong pc) =>
        _interceptor != null && (_interceptor.TryGet(pc, out _) || _interceptor.TryGetRedirect(pc, out _));

    private bool StillValid(ulong pc, ulong length, ulong hash) => Mapped(pc, length) && PagesHash(pc, length) == hash;

    /// <summary>
    /// The pages a block's bytes [pc, pc + length) lie on: its translation depends on all of them,
    /// not only on its own bytes (what the code after its exits reads first,
    /// <see cref="Translation.BlockTranslator"/>'s exit facts, is read on those pages).
    /// </summary>
    private static (ulong Start, ulong Length) Pages(ulong pc, ulong length)
    {
        ulong start = pc & ~0xfffUL, end = ((pc + length - 1) & ~0xfffUL) + 0x1000;
        return (start, end - start);
    }

    private bool Mapped(ulong pc, ulong length)
    {
        (ulong start, ulong span) = Pages(pc, length);
        return _mappings.ExecutableBytesFrom(start) >= span;
    }

    private static ulong PagesHash(ulong pc, ulong length)
    {
        (ulong start, ulong span) = Pages(pc, length);
        return CodeHash(start, span);
    }

    /// <summary>A file's identity for a key: path, size and modification time (a rebuilt memcheck is another key).</summary>
    public static string FileIdentity(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? $"{path} {file.Length} {file.LastWriteTimeUtc.Ticks}" : path;
    }

    private static bool MostlyDead(PersistedFragment[] records)
    {
        int usable = 0;
        foreach (PersistedFragment record in records)
            if (record.Usable) usable++;
        return usable * 2 < records.Length;
    }

    private static ulong CodeHash(ulong pc, ulong length) => XxHash3.HashToUInt64(new ReadOnlySpan<byte>((void*)pc, checked((int)length)));

    /// <summary>
    /// Writes the snapshot when this run translated enough that the next run would gain from it (under
    /// the cache's lock, every guest thread stopped). Best effort: false when it was not written.
    /// </summary>
    public bool Save(TranslationCache cache)
    {
        // New keepable fragments are at most those built: most warm runs stop here, before hashing
        // every fragment's code (cc1plus: ~40 ms).
        int threshold = Math.Max(8, _loadedLive / 100);
        if (cache.Statistics.FragmentsBuilt < threshold) return false;
        // The vDSO moves every run: its fragments would never be taken again.
        var vdso = Memory.HostMappings.Named("[vdso]");
        PersistedFragment[] records = cache.PersistedRecords(Persisted);
        // New usable fragments (numbers past the loaded ones): what a replaced function's entry or
        // code that moves every run (the vDSO) translates anew each run does not count.
        int fresh = 0;
        for (int number = _records.Length; number < records.Length; number++)
            if (records[number].Usable) fresh++;
        if (fresh < threshold) return false;
        // Code is kept where it was translated (no relocation), so a snapshot cannot be compacted in
        // place: once most of its fragments are dead (a rebuilt program's old code, flushed JIT
        // code), it is dropped instead of grown, and the next run starts cold and writes a compact
        // one. Without this, a program rebuilt between runs added its whole code to the file (and
        // to the region's used range) every time.
        if (_records.Length > 0 && MostlyDead(records))
        {
            try { File.Delete(_path); } catch (Exception) { }
            return false;
        }
        string temporary = $"{_path}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            ulong end = cache.Region.Start + cache.Region.Used;
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8))
            {
                writer.Write(Magic);
                writer.Write(_key);
                writer.Write(_codeStart);
                writer.Write(end);
                writer.Flush();
                stream.Write(new ReadOnlySpan<byte>((void*)_codeStart, checked((int)(end - _codeStart))));
                _tool.SaveTranslationState(writer);
                cache.SaveState(writer, records);
                writer.Write(Magic);
            }
            // Whole or not at all: a concurrent run reads the old file or the new one.
            File.Move(temporary, _path, overwrite: true);
            return true;
        }
        catch (Exception)
        {
            // At exit, after the report: nothing here may cost the program's exit status.
            try { File.Delete(temporary); } catch (Exception) { }
            return false;
        }

        PersistedFragment Persisted(Fragment f, int number)
        {
            if (ReferenceEquals(f, TranslationCache.Dormant))
            {
                // Not reached this run: kept while its code is elsewhere or unchanged.
                PersistedFragment record = _records[number];
                bool keep = record.Usable && (!Mapped(record.Pc, record.Length) || PagesHash(record.Pc, record.Length) == record.CodeHash);
                // An unusable record keeps its entry: FindByCachePc searches the entries in address order.
                return keep ? record : new PersistedFragment { Entry = record.Entry };
            }
            ulong length = f.ApplicationEnd - f.ApplicationPc;
            if (f.Flushed || f.Entry < _codeStart || vdso.Any(v => f.ApplicationPc >= v.Start && f.ApplicationPc < v.End) || cache.HasInterceptExit(f) || cache.ReadsSlot(f) || Replaced(f.ApplicationPc) || !Mapped(f.ApplicationPc, length))
                return new PersistedFragment { Entry = f.Entry };
            return PersistedFragment.Of(f, PagesHash(f.ApplicationPc, length));
        }
    }
}
