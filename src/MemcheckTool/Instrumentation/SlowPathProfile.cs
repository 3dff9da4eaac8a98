using System.Runtime.InteropServices;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// A developer's measurement, off unless MEMCHECK_SLOW_PATH_PROFILE=1: the shared slow-path
/// routines count their entries (the access check routine per site) in native counters, and the
/// busiest sites are printed to stderr at the end of the process. It says which inline checks and
/// stack adjustments fall through to the routines, the question perf cannot answer (the routines
/// are reached by jump-and-link, so no call stack names the site).
/// </summary>
public static unsafe class SlowPathProfile
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("MEMCHECK_SLOW_PATH_PROFILE") == "1";

    /// <summary>Sites counted individually (ids above share the last counter).</summary>
    public const int SiteCapacity = 1 << 22;

    /// <summary>Named counters of whole routines, after the site counters.</summary>
    public enum Routine { StackAdjust, StackAdjustRelative, Count }

    private static ulong* _counters;
    private static ulong* _stackCounters;
    private static readonly List<string> _stackSites = [];

    /// <summary>Stack adjustments counted individually (their id in gs:[ProfileSite] when they jump to a stack routine).</summary>
    public const int StackSiteCapacity = 1 << 20;

    /// <summary>The stack sites' counters (allocated on first use).</summary>
    public static ulong StackBase
    {
        get
        {
            if (_stackCounters == null)
                _stackCounters = (ulong*)NativeMemory.AllocZeroed((nuint)StackSiteCapacity, sizeof(ulong));
            return (ulong)_stackCounters;
        }
    }

    /// <summary>A new stack adjustment site (translation time, under the cache lock): its id.</summary>
    public static int AddStackSite(string description)
    {
        lock (_stackSites)
        {
            _stackSites.Add(description);
            return Math.Min(_stackSites.Count - 1, StackSiteCapacity - 1);
        }
    }

    /// <summary>The counters' base (site i at [base + 8i], routine r at [base + 8(SiteCapacity + r)]); allocated on first use.</summary>
    public static ulong Base
    {
        get
        {
            if (_counters == null)
                _counters = (ulong*)NativeMemory.AllocZeroed((nuint)(SiteCapacity + (int)Routine.Count), sizeof(ulong));
            return (ulong)_counters;
        }
    }

    public static ulong RoutineCounter(Routine routine) => Base + 8UL * (ulong)(SiteCapacity + (int)routine);

    /// <summary>The busiest sites and the routine totals, to stderr.</summary>
    public static void Print(AccessSiteTable sites, Func<ulong, string> describePc)
    {
        if (_counters == null) return;
        int count = Math.Min(sites.Count, SiteCapacity);
        var busiest = new List<(ulong Hits, int Id)>();
        ulong total = 0;
        for (int id = 0; id < count; id++)
        {
            ulong hits = _counters[id];
            if (hits == 0) continue;
            total += hits;
            busiest.Add((hits, id));
        }
        busiest.Sort((a, b) => b.Hits.CompareTo(a.Hits));
        var err = Console.Error;
        err.WriteLine($"slow-path profile: access check routine {total} entries from {busiest.Count} sites");
        for (int r = 0; r < (int)Routine.Count; r++)
            err.WriteLine($"slow-path profile: {(Routine)r} {_counters[SiteCapacity + r]} entries");
        if (_stackCounters != null)
        {
            var stack = new List<(ulong Hits, int Id)>();
            for (int id = 0; id < Math.Min(_stackSites.Count, StackSiteCapacity); id++)
                if (_stackCounters[id] != 0) stack.Add((_stackCounters[id], id));
            stack.Sort((a, b) => b.Hits.CompareTo(a.Hits));
            foreach ((ulong hits, int id) in stack.Take(25))
                err.WriteLine($"slow-path profile: {hits,10} stack site {_stackSites[id]}");
        }
        if (ExactLaneCheck.StubCounters != 0)
        {
            ulong* stubs = (ulong*)ExactLaneCheck.StubCounters;
            var busyStubs = new List<(ulong Hits, int Id)>();
            ulong stubTotal = 0;
            for (int id = 0; id < Math.Min(sites.Count, 1 << 17); id++)
                if (stubs[id] != 0) { stubTotal += stubs[id]; busyStubs.Add((stubs[id], id)); }
            busyStubs.Sort((a, b) => b.Hits.CompareTo(a.Hits));
            err.WriteLine($"slow-path profile: shared lane tests {stubTotal} entries from {busyStubs.Count} sites");
            ulong* classes = stubs + (1 << 17);
            for (int b = 0; b < ExactLaneCheck.EntryClasses / 6; b++, classes += 6)
                err.WriteLine($"slow-path profile: shared lane tests {(b < 4 ? $"size {1 << b}" : "other sizes")}: reads aligned with own lanes clean {classes[0]}, aligned not clean {classes[1]}, misaligned {classes[2]}; defines aligned clean {classes[3]}, aligned undefined {classes[4]}, misaligned {classes[5]}");
            foreach ((ulong hits, int id) in busyStubs.Take(60))
            {
                AccessSite site = sites[id];
                CheckedAccess a = site.Access;
                string kind = (a.IsRead ? "R" : "") + (a.IsWrite ? "W" : "");
                err.WriteLine($"slow-path profile: {hits,10} lanes {id} {describePc(site.Pc)} {kind}{a.Size} [{a.Base}+{a.Index}*{a.Scale}+{a.Displacement}]{(site.Parts != null ? $" merged x{site.Parts.Count}" : "")}");
            }
        }
        foreach ((ulong hits, int id) in busiest.Take(40))
        {
            AccessSite site = sites[id];
            CheckedAccess a = site.Access;
            string kind = (a.IsRead ? "R" : "") + (a.IsWrite ? "W" : "");
            err.WriteLine($"slow-path profile: {hits,10} site {id} {describePc(site.Pc)} {kind}{a.Size} [{a.Base}+{a.Index}*{a.Scale}+{a.Displacement}] {a.Extent}{(site.Parts != null ? $" merged x{site.Parts.Count}" : "")}{(a.OpMask != Iced.Intel.Register.None ? " masked" : "")}");
        }
    }
}
