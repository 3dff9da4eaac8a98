namespace Checker.Reports;

/// <summary>
/// Gathers the errors detection emits, from any thread. Two records are the same error when they
/// have the same kind and the same top <see cref="IdentityFrames"/> physical frames (pcs; inlined
/// frames share their caller's pc and count once). The first occurrence gets the next number; a
/// repeat only increments its count. A leak record counts one occurrence per block it folds, and
/// its <see cref="LeakInfo.Bytes"/> (direct and indirect) add to its kind's bytes.
/// </summary>
public sealed class ErrorCollector
{
    /// <summary>The default number of frames that identify an error.</summary>
    public const int DefaultIdentityFrames = 6;

    private readonly Lock _lock = new();
    private readonly Dictionary<ErrorIdentity, int> _index = new();
    private readonly List<(ErrorRecord Record, int Count)> _errors = new();
    private readonly KindCounts[] _counts = new KindCounts[ErrorKinds.All.Count];
    private readonly Action<ReportedError>? _onFirstOccurrence;
    private readonly ErrorKindInfo[] _checkedKinds;
    // Suppressed errors: the suppression that matched each identity (matched once per identity), and
    // the occurrences each suppression silenced, in order of first use.
    private readonly Dictionary<ErrorIdentity, string> _suppressedIdentities = new();
    private readonly Dictionary<string, int> _suppressionCounts = new();
    private readonly List<string> _suppressionOrder = new();
    // Raw occurrences (kind and unsymbolized stack) already resolved to an identity: repeats skip the record.
    private readonly Dictionary<RepeatKey, ErrorIdentity> _repeats = new();

    /// <param name="identityFrames">How many physical frames, innermost first, identify an error (at least 1).</param>
    /// <param name="onFirstOccurrence">Called with each new error, under the collector's lock, so output
    /// produced there (the text report) comes in numbering order even with many threads.</param>
    /// <param name="checkedKinds">The kinds whose check runs (default: all); <see cref="Summary"/> lists only these.</param>
    public ErrorCollector(int identityFrames = DefaultIdentityFrames, Action<ReportedError>? onFirstOccurrence = null,
        IEnumerable<ErrorKind>? checkedKinds = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(identityFrames, 1);
        IdentityFrames = identityFrames;
        _onFirstOccurrence = onFirstOccurrence;
        var kinds = checkedKinds?.ToHashSet();
        _checkedKinds = ErrorKinds.All.Where(k => kinds == null || kinds.Contains(k.Kind)).ToArray();
    }

    /// <summary>How many physical frames identify an error.</summary>
    public int IdentityFrames { get; }

    /// <summary>
    /// Names the suppression that silences an error (null: none does). Asked once per distinct
    /// error (kind and top frames); a suppressed error is never shown or counted as an error, only
    /// in <see cref="UsedSuppressions"/>.
    /// </summary>
    public Func<ErrorRecord, string?>? Suppression { get; init; }

    /// <summary>Each suppression that silenced something, with how many occurrences, in order of first use (Valgrind's used_suppression).</summary>
    public IReadOnlyList<(string Name, int Count)> UsedSuppressions
    {
        get
        {
            lock (_lock) return _suppressionOrder.Select(name => (name, _suppressionCounts[name])).ToArray();
        }
    }

    /// <summary>
    /// Records one occurrence. Returns the error it belongs to (its count including this one) and
    /// whether this was the first occurrence, i.e. whether the text report shows it now.
    /// </summary>
    public ReportedError Add(ErrorRecord record, out bool isNew) => Add(record, null, out isNew);

    /// <summary>
    /// As <see cref="Add(ErrorRecord, out bool)"/>, and remembers that occurrences of the record's
    /// kind with the same top frames of <paramref name="raw"/> (the stack its frames were symbolized
    /// from) are this error, for <see cref="TryAddRepeat"/>.
    /// </summary>
    public ReportedError Add(ErrorRecord record, RawStack? raw, out bool isNew)
    {
        ArgumentNullException.ThrowIfNull(record);
        var identity = new ErrorIdentity(record.Kind, TopPcs(record.Stack, IdentityFrames));
        int occurrences = record.Leak is LeakInfo leak ? (int)Math.Clamp(leak.Blocks, 1, int.MaxValue) : 1;
        lock (_lock)
        {
            if (raw is RawStack stack) _repeats.TryAdd(RepeatKey.Of(record.Kind, stack, IdentityFrames), identity);
            return Count(identity, record, occurrences, out isNew)!;
        }
    }

    /// <summary>
    /// One more occurrence of an error an earlier <see cref="Add(ErrorRecord, RawStack?, out bool)"/>
    /// recorded with the same kind and top raw frames: counted (or, suppressed, counted for its
    /// suppression) exactly as adding its record would, without building or symbolizing it. False
    /// when none was: build the record and add it.
    /// </summary>
    public bool TryAddRepeat(ErrorKind kind, RawStack raw)
    {
        var key = RepeatKey.Of(kind, raw, IdentityFrames);
        lock (_lock)
        {
            if (!_repeats.TryGetValue(key, out ErrorIdentity identity)) return false;
            Count(identity, null, 1, out _);
            return true;
        }
    }

    /// <summary>
    /// Counts an occurrence of <paramref name="identity"/> (under the lock). <paramref name="record"/>
    /// is null only for an identity already counted (a repeat), and then nothing is returned.
    /// </summary>
    private ReportedError? Count(ErrorIdentity identity, ErrorRecord? record, int occurrences, out bool isNew)
    {
        isNew = false;
        if (Suppressed(identity, record) is string suppression)
        {
            if (_suppressionCounts.TryAdd(suppression, 0)) _suppressionOrder.Add(suppression);
            _suppressionCounts[suppression] += occurrences;
            // Id 0: not one of the numbered errors.
            return record == null ? null : new ReportedError(0, record, occurrences) { SuppressedBy = suppression };
        }
        ref KindCounts counts = ref _counts[(int)identity.Kind];
        counts = counts with { Total = counts.Total + occurrences, Bytes = counts.Bytes + (record?.Leak?.Bytes ?? 0) };
        if (_index.TryGetValue(identity, out int index))
        {
            (ErrorRecord first, int count) = _errors[index];
            _errors[index] = (first, count + occurrences);
            return record == null ? null : new ReportedError(index + 1, first, count + occurrences);
        }
        _index.Add(identity, _errors.Count);
        _errors.Add((record!, occurrences));
        counts = counts with { Unique = counts.Unique + 1 };
        var reported = new ReportedError(_errors.Count, record!, occurrences);
        _onFirstOccurrence?.Invoke(reported);
        isNew = true;
        return reported;
    }

    private string? Suppressed(ErrorIdentity identity, ErrorRecord? record)
    {
        if (Suppression == null) return null;
        if (_suppressedIdentities.TryGetValue(identity, out string? name)) return name;
        if (record == null || _index.ContainsKey(identity)) return null;
        name = Suppression(record);
        if (name != null) _suppressedIdentities[identity] = name;
        return name;
    }

    /// <summary>Records one occurrence; true when it was the first of its error.</summary>
    public bool Add(ErrorRecord record)
    {
        Add(record, out bool isNew);
        return isNew;
    }

    /// <summary>Every unique error so far, in numbering order, with its current count.</summary>
    public IReadOnlyList<ReportedError> Errors
    {
        get
        {
            lock (_lock)
            {
                return _errors.Select((e, i) => new ReportedError(i + 1, e.Record, e.Count)).ToArray();
            }
        }
    }

    /// <summary>Unique and total counts per kind so far.</summary>
    public ErrorSummary Summary()
    {
        lock (_lock)
        {
            // A kind reported without being declared checked is still shown, never hidden.
            ErrorKindInfo[] shown = ErrorKinds.All.Where(k => _checkedKinds.Contains(k) || _counts[(int)k.Kind].Total > 0).ToArray();
            return new ErrorSummary((KindCounts[])_counts.Clone(), shown);
        }
    }

    private static ulong[] TopPcs(IReadOnlyList<ReportFrame> stack, int limit)
    {
        var pcs = new List<ulong>(Math.Min(limit, stack.Count));
        foreach (ReportFrame frame in stack)
        {
            if (pcs.Count > 0 && pcs[^1] == frame.Pc) continue; // an inlined frame shares its caller's pc
            if (pcs.Count == limit) break;
            pcs.Add(frame.Pc);
        }
        return pcs.ToArray();
    }

    /// <summary>
    /// The kind, exactness and the raw stack's entries up to its first <c>frames</c> distinct
    /// (adjacent repeats, recursion at one call site, once) pcs: what the identity is computed from
    /// (symbolizing keeps each pc's frames together, and the cut below main is at the first start
    /// function), without the frames beyond, so deeper recursion does not make new keys.
    /// </summary>
    private readonly struct RepeatKey(ErrorKind kind, bool exact, ulong[] pcs, int length) : IEquatable<RepeatKey>
    {
        private readonly ErrorKind _kind = kind;
        private readonly bool _exact = exact;
        private readonly ulong[] _pcs = pcs;
        private readonly int _length = length;

        public static RepeatKey Of(ErrorKind kind, RawStack raw, int frames)
        {
            ulong[] pcs = raw.Pcs;
            int length = 0, distinct = 0;
            for (; length < pcs.Length; length++)
            {
                if (length > 0 && pcs[length] == pcs[length - 1]) continue;
                if (distinct == frames) break;
                distinct++;
            }
            return new RepeatKey(kind, raw.InnermostIsExact, pcs, length);
        }

        private ReadOnlySpan<ulong> Top => _pcs.AsSpan(0, _length);

        public bool Equals(RepeatKey other)
        {
            if (_kind != other._kind || _exact != other._exact) return false;
            ReadOnlySpan<ulong> a = Top, b = other.Top;
            int i = 0, j = 0;
            // Compared with adjacent repeats skipped, as the identity counts them.
            while (i < a.Length && j < b.Length)
            {
                if (a[i] != b[j]) return false;
                do i++; while (i < a.Length && a[i] == a[i - 1]);
                do j++; while (j < b.Length && b[j] == b[j - 1]);
            }
            return i == a.Length && j == b.Length;
        }

        public override bool Equals(object? obj) => obj is RepeatKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(_kind);
            hash.Add(_exact);
            ReadOnlySpan<ulong> top = Top;
            for (int i = 0; i < top.Length; i++)
                if (i == 0 || top[i] != top[i - 1]) hash.Add(top[i]);
            return hash.ToHashCode();
        }
    }

    private readonly struct ErrorIdentity(ErrorKind kind, ulong[] pcs) : IEquatable<ErrorIdentity>
    {
        private readonly ErrorKind _kind = kind;
        private readonly ulong[] _pcs = pcs;

        public ErrorKind Kind => _kind;

        public bool Equals(ErrorIdentity other) => _kind == other._kind && _pcs.AsSpan().SequenceEqual(other._pcs);

        public override bool Equals(object? obj) => obj is ErrorIdentity other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(_kind);
            foreach (ulong pc in _pcs) hash.Add(pc);
            return hash.ToHashCode();
        }
    }
}
