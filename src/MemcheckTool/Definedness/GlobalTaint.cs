using Checker.Engine.CodeCache;
using Checker.Engine.Memory;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// Which pages of the modules' writable data (globals) may hold undefined bytes, so that mode-0 code
/// checks its RIP-relative and absolute accesses to them only there. A page is clean until an
/// undefined byte is kept in it (a propagated store, a client request, a vfork child's page); until
/// then no access to it is checked, and the pcs translated with an unchecked access to it are kept;
/// the first undefined byte flushes their fragments, which are translated again with the checks.
/// Most programs never put an undefined value in a global: checking every global access cost cc1plus
/// 4.6% (1.8 MB more code), which taints one page, at its end. Writable memory outside the modules'
/// data that code reaches RIP-relative or absolute (a JIT's) is always checked.
/// <para>
/// The threads' static TLS the same way, as one: mode-0 code reads and writes it fs-relative
/// (stack canaries, errno), unchecked until a thread's static TLS has held an undefined byte
/// (<paramref name="inStaticTls"/>); then every fs-relative access translated before is flushed and
/// the later ones are checked. Until then an undefined byte stored there is kept and taints it.
/// </para>
/// </summary>
internal sealed class GlobalTaint(TranslationCache cache, GuestMappings mappings, ModuleMap modules, Func<ulong, ulong, bool> inStaticTls)
{
    private const int PageShift = 12;
    private readonly Lock _lock = new();
    private readonly HashSet<ulong> _tainted = [];
    // Page -> the pcs of the unchecked accesses to it translated so far.
    private readonly Dictionary<ulong, List<ulong>> _unchecked = [];
    private ulong _lastTainted = ulong.MaxValue, _lastElsewhere = ulong.MaxValue;

    /// <summary>
    /// At translation: whether the access of the instruction at <paramref name="pc"/> to the global at
    /// <paramref name="address"/> is checked (its page may hold undefined bytes); if not, and the
    /// page is writable, the pc is remembered for the page's first undefined byte.
    /// </summary>
    public bool ChecksAt(ulong address, ulong pc)
    {
        if (mappings.ProtectionAt(address) is not int prot || (prot & GuestMappings.Write) == 0) return false;
        // Writable memory outside the modules' data reached RIP-relative or absolute: a JIT's code and
        // data (CoreCLR's statics). Undefined bytes kept there are not watched, so always checked.
        if (!modules.IsWritableSegment(address)) return true;
        ulong page = address >> PageShift;
        lock (_lock)
        {
            if (_tainted.Contains(page)) return true;
            if (!_unchecked.TryGetValue(page, out List<ulong>? pcs)) _unchecked[page] = pcs = [];
            if (pcs.Count == 0 || pcs[^1] != pc) pcs.Add(pc);
            return false;
        }
    }

    private readonly List<ulong> _uncheckedTls = [];
    private volatile bool _tlsTainted;

    /// <summary>Whether the threads' static TLS has held an undefined byte (its accesses are checked).</summary>
    public bool TlsTainted => _tlsTainted;

    /// <summary>Called with true once the static TLS is tainted (the shadow move routine's cell).</summary>
    public Action? TlsTaintedNow { get; set; }

    /// <summary>At translation: whether the fs-relative access of the instruction at <paramref name="pc"/> is checked; if not, the pc is remembered.</summary>
    public bool ChecksTlsAt(ulong pc)
    {
        if (_tlsTainted) return true;
        lock (_lock)
        {
            if (_tlsTainted) return true;
            if (_uncheckedTls.Count == 0 || _uncheckedTls[^1] != pc) _uncheckedTls.Add(pc);
            return false;
        }
    }

    private void TaintTls()
    {
        ulong[] pcs;
        lock (_lock)
        {
            if (_tlsTainted) return;
            _tlsTainted = true;
            pcs = [.. _uncheckedTls];
            _uncheckedTls.Clear();
        }
        TlsTaintedNow?.Invoke();
        lock (cache.Lock)
            foreach (ulong pc in pcs) cache.Flush(pc, pc + 1);
    }

    /// <summary>Undefined bytes are kept in [<paramref name="address"/>, +<paramref name="length"/>): the module data pages among them are tainted, and the static TLS.</summary>
    public void Kept(ulong address, ulong length = 1)
    {
        if (length == 0) return;
        if (!_tlsTainted && inStaticTls(address, length)) TaintTls();
        for (ulong page = address >> PageShift; page <= (address + length - 1) >> PageShift; page++)
        {
            if (Volatile.Read(ref _lastTainted) == page || Volatile.Read(ref _lastElsewhere) == page) continue;
            if (!modules.IsWritableSegment(page << PageShift) && !modules.IsWritableSegment(((page + 1) << PageShift) - 1))
            {
                Volatile.Write(ref _lastElsewhere, page);
                continue;
            }
            Taint(page);
        }
    }

    private void Taint(ulong page)
    {
        List<ulong>? pcs;
        lock (_lock)
        {
            Volatile.Write(ref _lastTainted, page);
            if (!_tainted.Add(page)) return;
            _unchecked.Remove(page, out pcs);
        }
        if (pcs == null) return;
        // The code that read and wrote the page unchecked is translated again, checking it. A thread
        // inside one of those fragments finishes its run of the old code (as after any flush).
        lock (cache.Lock)
            foreach (ulong pc in pcs) cache.Flush(pc, pc + 1);
    }

    /// <summary>Pages tainted so far (for --stats).</summary>
    public int TaintedPages
    {
        get { lock (_lock) return _tainted.Count; }
    }
}
