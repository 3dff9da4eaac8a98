namespace Checker.Engine.CodeCache;

/// <summary>Counters reported by <c>--stats</c>.</summary>
public sealed class EngineStatistics
{
    public long FragmentsBuilt;
    public long FragmentsFlushed;
    public long DispatcherEntries;
    public long DirectLinks;
    public long IndirectMisses;
    public long Syscalls;
    public long InterceptedCalls;
    public long TranslationTicks;

    public TimeSpan TranslationTime => TimeSpan.FromTicks(TranslationTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency);
}
