namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The stack words one callstack walk reads and which of them it uses, for <see cref="WalkMemo"/>:
/// a return address is used as read; a saved rbp only once a later step computes with rbp (a CFA
/// from rbp, the frame-pointer chain), which in code with CFI hardly any step does.
/// </summary>
internal ref struct WalkRecorder(Span<StackWord> read, Span<bool> used)
{
    private readonly Span<StackWord> _read = read;
    private readonly Span<bool> _used = used;
    private int _count;
    private int _rbpFrom = -1;   // the read rbp holds, or -1: the entry rbp
    private bool _overflowed;

    /// <summary>Whether the walk computed with the rbp it started from.</summary>
    public bool UsesEntryRbp { get; private set; }

    /// <summary>A word read (<paramref name="isUsed"/>: the walk's frames depend on it already).</summary>
    public void Read(ulong address, ulong value, bool isUsed)
    {
        if (_count == _read.Length) { _overflowed = true; return; }
        _read[_count] = new StackWord(address, value);
        _used[_count++] = isUsed;
    }

    /// <summary>rbp now holds the word just read.</summary>
    public void RbpFromLastRead() => _rbpFrom = _overflowed ? -1 : _count - 1;

    /// <summary>The walk computes with rbp: the word it came from is used.</summary>
    public void UseRbp()
    {
        if (_rbpFrom >= 0) _used[_rbpFrom] = true;
        else UsesEntryRbp = true;
    }

    /// <summary>The used words, compacted into the start of the buffer; false when they do not fit <paramref name="limit"/> (or were not all recorded).</summary>
    public bool TryGetUsed(int limit, out ReadOnlySpan<StackWord> words)
    {
        words = default;
        if (_overflowed) return false;
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (!_used[i]) continue;
            if (kept == limit) return false;
            _read[kept++] = _read[i];
        }
        words = _read[..kept];
        return true;
    }
}
