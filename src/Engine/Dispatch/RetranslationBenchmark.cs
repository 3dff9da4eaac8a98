using System.Diagnostics;
using Checker.Engine.CodeCache;
using Checker.Engine.Translation;

namespace Checker.Engine.Dispatch;

/// <summary>
/// A developer's measurement, off unless MEMCHECK_RETRANSLATE=N[,ROUNDS]: once the cache holds N
/// fragments, every live one is flushed and translated again, ROUNDS times (default 3), back to
/// back, and each round's cost per fragment is printed to stderr; then the run goes on. It times
/// the translator warm and alone (no guest code between translations to evict its tables), with a
/// stable mix of blocks, so a perf profile of the run shows translation by itself: a cold run's
/// per-fragment cost is spread over a whole program and swings with the machine. The program's
/// results are unchanged (a retranslated fragment is the same code at another place).
/// </summary>
public static class RetranslationBenchmark
{
    private static readonly (int After, int Rounds) Setting = Parse(Environment.GetEnvironmentVariable("MEMCHECK_RETRANSLATE"));
    private static bool s_done;

    private static (int, int) Parse(string? value)
    {
        if (string.IsNullOrEmpty(value)) return (0, 0);
        string[] parts = value.Split(',');
        int after = int.TryParse(parts[0], out int n) && n > 0 ? n : 0;
        int rounds = parts.Length > 1 && int.TryParse(parts[1], out int r) && r > 0 ? r : 3;
        return (after, rounds);
    }

    /// <summary>
    /// Runs the measurement once the cache is large enough (call under the cache's lock, after a
    /// translation); true when it ran: every fragment the caller holds may have been flushed.
    /// </summary>
    public static bool MaybeRun(TranslationCache cache, BlockTranslator translator)
    {
        if (Setting.After == 0 || s_done || cache.FragmentCount < Setting.After) return false;
        s_done = true;
        var blocks = new List<(ulong Pc, int Mode)>();
        for (int i = 0; i < cache.FragmentCount; i++)
        {
            Fragment f = cache.FragmentAt(i);
            // Not the one-instruction entries (replaced functions, client requests): no block of their own.
            if (!f.Flushed && f.ApplicationEnd > f.ApplicationPc + 1) blocks.Add((f.ApplicationPc, f.Mode));
        }
        double microseconds = 1e6 / Stopwatch.Frequency;
        for (int round = 0; round < Setting.Rounds; round++)
        {
            long flushing = 0, translating = 0;
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            ulong codeBefore = cache.Region.Used;
            foreach ((ulong pc, int mode) in blocks)
            {
                long t0 = Stopwatch.GetTimestamp();
                cache.Flush(pc, pc + 1);
                long t1 = Stopwatch.GetTimestamp();
                translator.Translate(pc, mode);
                translating += Stopwatch.GetTimestamp() - t1;
                flushing += t1 - t0;
            }
            int n = Math.Max(1, blocks.Count);
            Console.Error.WriteLine($"memcheck-retranslate: round {round + 1}: {blocks.Count} fragments, " +
                $"{translating * microseconds / n:F2} us a fragment (flush {flushing * microseconds / n:F2} us), " +
                $"{(GC.GetAllocatedBytesForCurrentThread() - allocated) / n} managed bytes and {(cache.Region.Used - codeBefore) / (ulong)n} code bytes a fragment");
        }
        return true;
    }
}
