using Checker.Engine.CodeCache;

namespace Checker.Engine.Interception;

/// <summary>
/// The replaced entries the code cache calls directly (<see cref="Dispatch.InterceptCalls"/>), by a
/// small number each entry fragment carries: a dense table stays in the caches where the exit table,
/// reached through the exit id, cost a chain of dependent misses on every malloc and free. Added to
/// under the cache lock as entries are translated; read by any thread without it (the array is
/// replaced whole when it grows, after its entries are written).
/// </summary>
public sealed class InterceptedCalls
{
    /// <summary>The handler, and the entry's exit (its fragment, whether it still stands, the function's pc).</summary>
    public readonly record struct Entry(InterceptHandler Handler, ExitStub Exit);

    private Entry[] _entries = new Entry[64];
    private int _count;

    /// <summary>Bits of what a fragment carries that are the entry's number; the function's fast tag is above them.</summary>
    public const int NumberBits = 24;

    /// <summary>
    /// What a new entry fragment for <paramref name="exit"/> carries: the entry's number, and the
    /// function's <see cref="InterceptedFunction.FastTag"/> in bits 24-31.
    /// </summary>
    public int Add(InterceptedFunction function, ExitStub exit)
    {
        if (_count >= 1 << NumberBits) throw new EngineException("too many replaced entries");
        Entry[] entries = _entries;
        if (_count == entries.Length)
        {
            Array.Resize(ref entries, entries.Length * 2);
            entries[_count] = new Entry(function.Handler, exit);
            Volatile.Write(ref _entries, entries);
        }
        else entries[_count] = new Entry(function.Handler, exit);
        return _count++ | (function.FastTag & 0xff) << NumberBits;
    }

    /// <summary>The entry a fragment's value names (its fast tag ignored).</summary>
    public ref readonly Entry this[int carried] => ref Volatile.Read(ref _entries)[carried & ((1 << NumberBits) - 1)];
}
