using Checker.Symbols.Elf;

namespace Checker.Engine.Memory;

/// <summary>
/// The ELF modules loaded in the guest, by address range: fed by the loader and by the mmap calls
/// with which the guest's ld.so maps libraries; answers pc -> (path, load bias) quickly for
/// callstacks captured on hot paths.
/// </summary>
public sealed class ModuleMap
{
    private readonly List<(ulong Start, ulong End, string Path, ulong Bias)> _modules = [];
    private readonly List<(ulong Start, ulong End)> _writable = [];
    // Modules unmapped since, most recent last (at most UnloadedKept): a leak allocated by a library
    // the program has dlclose'd is reported at exit, when its range is nobody's.
    private readonly List<(ulong Start, ulong End, string Path, ulong Bias)> _unloaded = [];
    private const int UnloadedKept = 256;
    private readonly Lock _lock = new();
    private long _generation;

    /// <summary>
    /// Changes with every module mapped and every range unmapped: what was learnt of the process's
    /// mappings (a /proc/self/maps snapshot) holds while it stays the same.
    /// </summary>
    public long Generation => Volatile.Read(ref _generation);

    private long _tlsBytes;

    /// <summary>
    /// The TLS blocks (PT_TLS) of every module mapped so far, each rounded up to its alignment: what
    /// the C library's static TLS holds for the modules loaded at start (memcheck's bound of it).
    /// </summary>
    public ulong TlsBytes => (ulong)Volatile.Read(ref _tlsBytes);

    /// <summary>A module mapped whole at <paramref name="start"/> (its first PT_LOAD, file offset 0, lands there).</summary>
    public (ulong Start, ulong End) OnMapped(ElfImage image, ulong start)
    {
        ulong bias = image.IsPositionIndependent ? start - image.LowestLoadAddress : 0;
        ulong low = image.LowestLoadAddress + bias, high = image.HighestLoadAddress + bias;
        var writable = image.ProgramHeaders
            .Where(p => p.Type == ElfSegmentType.Load && p.Flags.HasFlag(ElfSegmentFlags.Write))
            .Select(p => (p.VirtualAddress + bias, p.VirtualAddress + bias + p.MemorySize)).ToList();
        foreach (ElfProgramHeader p in image.ProgramHeaders)
            if (p.Type == ElfSegmentType.Tls)
            {
                ulong align = Math.Max(p.Align, 1);
                Interlocked.Add(ref _tlsBytes, (long)((p.MemorySize + align - 1) / align * align));
            }
        lock (_lock)
        {
            _writable.RemoveAll(w => w.Start < high && low < w.End);
            _writable.AddRange(writable);
            _modules.RemoveAll(m => m.Start < high && low < m.End);
            int at = _modules.FindIndex(m => m.Start > low);
            _modules.Insert(at < 0 ? _modules.Count : at, (low, high, image.Path, bias));
            _generation++;
        }
        return (low, high);
    }

    /// <summary>[start, end) was unmapped: the modules wholly inside it are gone (returned).</summary>
    public List<(ulong Start, ulong End, string Path)> OnUnmapped(ulong start, ulong end)
    {
        lock (_lock)
        {
            var goneWhole = _modules.Where(m => m.Start >= start && m.End <= end).ToList();
            _unloaded.AddRange(goneWhole);
            if (_unloaded.Count > UnloadedKept) _unloaded.RemoveRange(0, _unloaded.Count - UnloadedKept);
            var gone = goneWhole.Select(m => (m.Start, m.End, m.Path)).ToList();
            _modules.RemoveAll(m => m.Start >= start && m.End <= end);
            _writable.RemoveAll(w => w.Start >= start && w.End <= end);
            _generation++;
            return gone;
        }
    }

    /// <summary>Whether <paramref name="address"/> is in a loaded module's writable segment (its data or bss).</summary>
    public bool IsWritableSegment(ulong address)
    {
        lock (_lock)
        {
            foreach ((ulong start, ulong end) in _writable)
                if (address >= start && address < end) return true;
            return false;
        }
    }

    /// <summary>The span from the lowest writable module segment to the end of the highest ((0, 0): none).</summary>
    public (ulong Low, ulong High) WritableSpan
    {
        get
        {
            lock (_lock)
            {
                if (_writable.Count == 0) return (0, 0);
                ulong low = ulong.MaxValue, high = 0;
                foreach ((ulong start, ulong end) in _writable) (low, high) = (Math.Min(low, start), Math.Max(high, end));
                return (low, high);
            }
        }
    }

    /// <summary>The writable segments (data and bss) of the loaded modules: roots of the leak scan.</summary>
    public IReadOnlyList<(ulong Start, ulong End)> WritableSegments
    {
        get { lock (_lock) return _writable.ToList(); }
    }

    /// <summary>The module most recently unmapped from where <paramref name="pc"/> is (for a pc no mapping holds now).</summary>
    public (string Path, ulong LoadBias)? FindUnloaded(ulong pc)
    {
        lock (_lock)
        {
            for (int i = _unloaded.Count - 1; i >= 0; i--)
                if (pc >= _unloaded[i].Start && pc < _unloaded[i].End) return (_unloaded[i].Path, _unloaded[i].Bias);
            return null;
        }
    }

    public (string Path, ulong LoadBias)? Find(ulong pc)
    {
        lock (_lock)
        {
            int lo = 0, hi = _modules.Count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                var m = _modules[mid];
                if (pc < m.Start) hi = mid - 1;
                else if (pc >= m.End) lo = mid + 1;
                else return (m.Path, m.Bias);
            }
            return null;
        }
    }
}
