namespace Checker.Engine.CodeCache;

/// <summary>Counters reported by <c>--stats</c>.</summary>
public sealed class EngineStatistics
{
    public long FragmentsBuilt;
    public long FragmentsFlushed;
    /// <summary>Persisted fragments of earlier runs read at start, and those this run took into use (<see cref="PersistedTranslations"/>).</summary>
    public long FragmentsLoaded;
    public long FragmentsReused;
    /// <summary>Whole-cache unlinks for signal delivery.</summary>
    public long Unlinks;
    public long DispatcherEntries;
    public long DirectLinks;
    /// <summary>Indirect branches translated as direct ones: their slot was read-only (<c>Translation.ConstantTargets</c>).</summary>
    public long ConstantTargets;
    /// <summary>Indirect jmps through a writable slot (lazy binding) checked against the slot's value at translation.</summary>
    public long CheckedSlotTargets;
    public long IndirectMisses;
    public long Syscalls;
    public long InterceptedCalls;
    /// <summary>Replaced calls that left the cache for the dispatcher (the others ran from the cache: <c>Dispatch.InterceptCalls</c>).</summary>
    public long InterceptExits;
    /// <summary>Tool routines that left the cache (memcheck: an unaddressable byte, reported or an allowed partial load).</summary>
    public long ToolExits;
    /// <summary>Valgrind client requests the program made (valgrind.h's magic sequence).</summary>
    public long ClientRequests;
    public long TranslationTicks;
    /// <summary>
    /// CPU time of the translating threads while they translated (ns), when measured (--stats): on a
    /// loaded machine wall time also counts waiting for a core. The thread CPU clock is a system call
    /// on this VM (~2.4 us, no vDSO path), so each reading has the clock's own cost taken off, and the
    /// wall-clock interval lies inside the CPU one, free of it. Reading it for one translation in 32
    /// was tried: translation times are too heavy-tailed (a collection, a fresh GC region cleared) for
    /// the samples' mean, which came out 15-130% above the wall time on cc1plus.
    /// </summary>
    public long TranslationCpuNanoseconds;
    /// <summary>Of those, the translations in a mode other than 0 (a tool's variants: memcheck's propagating mode), and how many.</summary>
    public long VariantTranslationCpuNanoseconds, VariantTranslations;
    /// <summary>Managed bytes the translating threads allocated while they translated, when measured (--stats).</summary>
    public long TranslationAllocatedBytes;

    /// <summary>Translation CPU time per fragment built, in microseconds.</summary>
    public double TranslationCpuMicrosecondsPerFragment => FragmentsBuilt == 0 ? 0 : TranslationCpuNanoseconds / 1000.0 / FragmentsBuilt;

    /// <summary>Translation CPU time per fragment built in mode 0, and per variant (0 when none were built).</summary>
    public double PlainTranslationCpuMicrosecondsPerFragment =>
        FragmentsBuilt - VariantTranslations <= 0 ? 0 : (TranslationCpuNanoseconds - VariantTranslationCpuNanoseconds) / 1000.0 / (FragmentsBuilt - VariantTranslations);
    public double VariantTranslationCpuMicrosecondsPerFragment => VariantTranslations == 0 ? 0 : VariantTranslationCpuNanoseconds / 1000.0 / VariantTranslations;

    public TimeSpan TranslationTime => TimeSpan.FromTicks(TranslationTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency);
}
