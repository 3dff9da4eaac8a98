using Checker.Engine;
using Checker.Engine.CodeCache;
using Checker.MemcheckTool;
using Checker.MemcheckTool.Definedness;

namespace Checker.Memcheck;

/// <summary>The <c>--stats</c> lines, on stderr with the memcheck prefix.</summary>
public static class StatisticsReport
{
    public static void Print(GuestRun run)
    {
        EngineStatistics s = run.Cache.Statistics;
        void Line(string name, object value) => Console.Error.WriteLine(LinePrefix.Line($"{name,-26} {value}"));
        Line("fragments built", s.FragmentsBuilt);
        Line("fragments flushed", s.FragmentsFlushed);
        if (run.Cache.Persisted is { } persisted)
        {
            Line("fragments loaded", s.FragmentsLoaded);
            Line("  reused", s.FragmentsReused);
            if (persisted.LoadProblem is string problem) Line("  snapshot not used", problem);
        }
        Line("code cache bytes", run.Cache.Region.Used);
        Line("  exit stubs apart", (long)run.Cache.ExitStubs.Count * ExitStubArea.StubSize);
        Line("dispatcher entries", s.DispatcherEntries);
        Line("direct links", s.DirectLinks);
        Line("constant indirect targets", s.ConstantTargets);
        Line("checked slot targets", s.CheckedSlotTargets);
        var lookups = run.IndirectLookups;
        Line("predicted returns", run.PredictedReturns);
        Line("indirect lookups", lookups.All);
        Line("  at rets", lookups.Returns);
        Line("  at indirect calls", lookups.Calls);
        Line("  at indirect jmps", lookups.All - lookups.Returns - lookups.Calls);
        Line("indirect misses", s.IndirectMisses);
        Line("syscalls", s.Syscalls);
        ulong nativeCalls = run.Tool is MemoryCheckTool { Heap: { } heap } ? heap.FastCalls : 0;
        Line("intercepted calls", s.InterceptedCalls + (long)nativeCalls);
        Line("  through the dispatcher", s.InterceptExits);
        Line("  in native code", nativeCalls);
        if (run.Tool is MemoryCheckTool { Heap: { } grown })
        {
            // The replacement heap at its largest: the arena's populated extent, and what filled it
            // the last time it had to grow (requested bytes of live blocks; blocks in quarantine,
            // held for reuse, and free ranges, redzones included).
            var m = grown.AtLastGrowth;
            static string Mb(ulong bytes) => (bytes / 1e6).ToString("F1");
            Line("heap arena MB", Mb(m.Committed));
            Line("  last grown at live MB", $"{Mb(m.Live)} ({m.LiveBlocks} blocks)");
            Line("  quarantined/held/free MB", $"{Mb(m.Quarantined)} / {Mb(m.Held)} / {Mb(m.FreeRanges)}");
        }
        Line("callstack walks", Checker.MemcheckTool.Heap.CallstackCapture.Walks);
        Line("  distinct callstacks", Checker.MemcheckTool.Heap.CallstackCapture.Stacks.Count);
        Line("tool exits (access check reports)", s.ToolExits);
        long hotLaneExits = run.Tool is MemoryCheckTool memcheck ? memcheck.HotLanes.Exits + memcheck.StubsMade + memcheck.HitsMade : 0;
        if (run.Tool is MemoryCheckTool withLanes)
        {
            Line("  lane tests made per-site", withLanes.HotLanes.Promoted);
            Line("  stubs made on first run", withLanes.StubsMade);
            if (withLanes.Definedness != null) Line("  hit paths made on first run", withLanes.HitsMade);
        }
        if (run.Tool is MemoryCheckTool { Definedness: { } definedness })
        {
            // What those tool exits were: definedness's own, and the rest (access reports, allowed partial loads).
            DefinednessStatistics d = definedness.Statistics;
            Line("  propagation exits", d.PropagationExits);
            Line("  undefined-read switches", d.ModeSwitches);
            Line("  merged-check gap exits", d.MergedGapExits);
            Line("  propagated at a switch", d.PropagatedAtSwitch);
            Line("  other exits", s.ToolExits - hotLaneExits - d.PropagationExits - d.ModeSwitches - d.MergedGapExits - d.PropagatedAtSwitch);
            Line("uninitialized reports", d.Reports);
            Line("fragments plain/propagating/guarded", string.Join(" / ", d.TranslationsByMode));
            Line("globals' pages checked", definedness.GlobalPagesChecked);
            Line("static TLS checked", definedness.StaticTlsChecked ? "yes" : "no");
        }
        Line("translation time ms", s.TranslationTime.TotalMilliseconds.ToString("F1"));
        Line("translation cpu ms", (s.TranslationCpuNanoseconds / 1e6).ToString("F1"));
        Line("translation cpu us/fragment", s.TranslationCpuMicrosecondsPerFragment.ToString("F2"));
        if (s.VariantTranslations > 0)
        {
            Line("  plain", s.PlainTranslationCpuMicrosecondsPerFragment.ToString("F2"));
            Line("  propagating", s.VariantTranslationCpuMicrosecondsPerFragment.ToString("F2"));
        }
        Line("translation allocated MB", (s.TranslationAllocatedBytes / 1e6).ToString("F1"));
        Line("exits", run.Cache.NextExitId);
        Line("peak resident MB", (PeakResidentKilobytes() / 1e3).ToString("F1"));
        // memcheck's own managed memory (fragments, exits, sites, heap metadata), next to the process's peak RSS.
        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        Line("managed heap MB", (gc.HeapSizeBytes / 1e6).ToString("F1"));
        Line("managed committed MB", (gc.TotalCommittedBytes / 1e6).ToString("F1"));
        // Everything allocated over the run: the collector clears each allocation context before use,
        // so this, not what lives, is what the allocation paths pay for.
        Line("managed allocated MB", (GC.GetTotalAllocatedBytes() / 1e6).ToString("F1"));
        // By generation after the last collection (gen0, gen1, gen2, large objects, pinned): what lives long.
        Line("  gen0/1/2/loh/poh MB", string.Join(" / ", Enumerable.Range(0, gc.GenerationInfo.Length).Select(g => (gc.GenerationInfo[g].SizeAfterBytes / 1e6).ToString("F1"))));
        Line("collections gen0/1/2", $"{GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
        Line("gc pause ms", GC.GetTotalPauseDuration().TotalMilliseconds.ToString("F1"));
    }

    /// <summary>memcheck's peak resident set so far (VmHWM of /proc/self/status; 0 when unreadable).</summary>
    private static long PeakResidentKilobytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim());
        }
        catch (IOException) { }
        return 0;
    }
}
