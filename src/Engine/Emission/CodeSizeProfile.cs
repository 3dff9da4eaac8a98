namespace Checker.Engine.Emission;

/// <summary>
/// A developer's measurement, off unless MEMCHECK_CODE_PROFILE=1: the bytes of generated code by
/// what emitted them (the application's own instructions, exits, the tool's kinds of
/// instrumentation), summed over every fragment and printed to stderr at the end of the process.
/// It says which instrumentation makes a large program's code cache large, which the fragments'
/// total size alone cannot.
/// </summary>
public static class CodeSizeProfile
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("MEMCHECK_CODE_PROFILE") == "1";

    public enum Kind
    {
        Header, Application, Exits, IndirectLookup, HeldScratch,
        Guard, BlockEntry, PushAndCall, PopProbe, CheckSpill, CheckProbe, FrameDefine, CheckOther, Vsib, StackTracking,
        Propagation, SideExits, StubExactLanes, StubSetup, StubOther, StubLazy, Constants, Count,
    }

    private static readonly long[] _bytes = new long[2 * (int)Kind.Count];
    private static readonly long[] _fragments = new long[2];

    /// <summary>Adds <paramref name="bytes"/> of <paramref name="kind"/> in a fragment of <paramref name="mode"/>.</summary>
    public static void Add(Kind kind, int mode, int bytes)
    {
        if (bytes == 0) return;
        _bytes[Math.Min(mode, 1) * (int)Kind.Count + (int)kind] += bytes;
        Attributed += bytes;
        // The bytes just emitted end at the buffer's current address (every caller adds right after emitting).
        if (Trace && Buffer != null && kind is not (Kind.Application or Kind.IndirectLookup or Kind.Exits or Kind.Header))
            Console.Error.WriteLine($"memcheck-trace: kind {kind} at 0x{Buffer.CurrentAddress - (ulong)bytes:x}+{bytes}");
    }

    /// <summary>
    /// With MEMCHECK_TRACE=1 too: each tool kind's bytes as an address range ("memcheck-trace: kind K
    /// at ADDR+LEN"), which bench/tools/cache-profile.py --kinds maps perf samples to (bytes of a
    /// fragment in no range are the engine's: the application's instructions, lookups, exits).
    /// </summary>
    private static readonly bool Trace = Enabled && Environment.GetEnvironmentVariable("MEMCHECK_TRACE") == "1";

    /// <summary>The buffer of the fragment being translated (set by the translator when tracing kinds).</summary>
    public static CodeBuffer? Buffer { get; set; }

    /// <summary>Every byte added so far (the translator subtracts the tool's share of an instruction's bytes).</summary>
    public static long Attributed { get; private set; }

    public static void Fragment(int mode) => _fragments[Math.Min(mode, 1)]++;

    public static void Print()
    {
        if (!Enabled) return;
        var err = Console.Error;
        for (int mode = 0; mode < 2; mode++)
        {
            long total = 0;
            for (int k = 0; k < (int)Kind.Count; k++) total += _bytes[mode * (int)Kind.Count + k];
            long fragments = Math.Max(1, _fragments[mode]);
            err.WriteLine($"code profile: mode {mode}: {_fragments[mode]} fragments, {total} bytes, {total / (double)fragments:F1} bytes/fragment");
            for (int k = 0; k < (int)Kind.Count; k++)
            {
                long b = _bytes[mode * (int)Kind.Count + k];
                if (b != 0) err.WriteLine($"code profile: mode {mode} {(Kind)k,-16} {b,12} {b / (double)fragments,8:F1}/fragment {100.0 * b / Math.Max(1, total),5:F1}%");
            }
        }
    }
}
