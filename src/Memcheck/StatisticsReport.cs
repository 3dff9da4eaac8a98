using Checker.Engine;
using Checker.Engine.CodeCache;

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
        Line("code cache bytes", run.Cache.Region.Used);
        Line("dispatcher entries", s.DispatcherEntries);
        Line("direct links", s.DirectLinks);
        Line("indirect lookups", run.IndirectLookups);
        Line("indirect misses", s.IndirectMisses);
        Line("syscalls", s.Syscalls);
        Line("intercepted calls", s.InterceptedCalls);
        Line("  through the dispatcher", s.InterceptExits);
        Line("tool exits (access check reports)", s.ToolExits);
        Line("translation time ms", s.TranslationTime.TotalMilliseconds.ToString("F1"));
    }
}
