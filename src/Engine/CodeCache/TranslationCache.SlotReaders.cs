namespace Checker.Engine.CodeCache;

/// <summary>
/// Fragments whose indirect branch was translated as a direct one because its slot was read-only
/// (<see cref="Translation.ConstantTargets"/>), by the slot's page: a change to that page's mapping
/// flushes them as a change to their own code would.
/// </summary>
public sealed unsafe partial class TranslationCache
{
    // Fragment numbers by the 4 KB page of the slot they read (a few per PLT: cc1plus has ~1K).
    private readonly Dictionary<ulong, List<int>> _slotReaders = new();
    private readonly HashSet<int> _slotReaderNumbers = new();

    /// <summary>Records that <paramref name="fragment"/> took its target from the 8 bytes at <paramref name="slot"/>.</summary>
    internal void AddSlotReader(Fragment fragment, ulong slot)
    {
        for (ulong page = slot >> 12; page <= (slot + 7) >> 12; page++)
        {
            if (!_slotReaders.TryGetValue(page, out List<int>? list)) _slotReaders[page] = list = [];
            list.Add(fragment.Number);
        }
        _slotReaderNumbers.Add(fragment.Number);
        Statistics.ConstantTargets++;
    }

    /// <summary>Whether the fragment relies on a slot's value (such a translation holds for one run: it is not persisted).</summary>
    internal bool ReadsSlot(Fragment fragment) => _slotReaderNumbers.Contains(fragment.Number);

    /// <summary>
    /// Flushes the fragments that read a slot in [start, end) (mprotect making those pages writable
    /// while they stay executable: the code itself is not flushed then).
    /// </summary>
    public int FlushSlotReaders(ulong start, ulong end)
    {
        var victims = new List<Fragment>();
        CollectSlotReaders(start, end, victims);
        Evict(victims);
        return victims.Count;
    }

    private void CollectSlotReaders(ulong start, ulong end, List<Fragment> victims)
    {
        if (end <= start || _slotReaders.Count == 0) return;
        ulong firstPage = start >> 12, lastPage = (end - 1) >> 12;
        var pages = _slotReaders.Keys.Where(p => p >= firstPage && p <= lastPage).ToList();
        foreach (ulong page in pages)
        {
            foreach (int number in _slotReaders[page])
            {
                Fragment f = FragmentAt(number);
                _slotReaderNumbers.Remove(number);
                if (!f.Flushed) { f.Flushed = true; victims.Add(f); }
            }
            _slotReaders.Remove(page);
        }
    }
}
