namespace Checker.MemcheckTool.ClientRequests;

/// <summary>Which loss records a requested leak check shows, against the previous requested check (Valgrind's deltamode).</summary>
public enum LeakDelta
{
    /// <summary>Every record (VALGRIND_DO_LEAK_CHECK).</summary>
    Any,
    /// <summary>Records whose bytes or blocks grew, new ones included (VALGRIND_DO_ADDED_LEAK_CHECK).</summary>
    Increased,
    /// <summary>Records whose bytes or blocks changed either way (VALGRIND_DO_CHANGED_LEAK_CHECK).</summary>
    Changed,
    /// <summary>Records that did not exist before (VALGRIND_DO_NEW_LEAK_CHECK).</summary>
    New,
}

/// <summary>A leak check the program asked for: its records (<paramref name="Full"/>) or only the summary (VALGRIND_DO_QUICK_LEAK_CHECK), and which of them.</summary>
public sealed record LeakCheckRequest(bool Full, LeakDelta Delta)
{
    /// <summary>The macro that asks for it.</summary>
    public string Macro => !Full ? "VALGRIND_DO_QUICK_LEAK_CHECK" : Delta switch
    {
        LeakDelta.Increased => "VALGRIND_DO_ADDED_LEAK_CHECK",
        LeakDelta.Changed => "VALGRIND_DO_CHANGED_LEAK_CHECK",
        LeakDelta.New => "VALGRIND_DO_NEW_LEAK_CHECK",
        _ => "VALGRIND_DO_LEAK_CHECK",
    };
}

/// <summary>What the last leak check found, for VALGRIND_COUNT_LEAKS and VALGRIND_COUNT_LEAK_BLOCKS (leaked: definitely and indirectly lost; dubious: possibly lost).</summary>
public readonly record struct LeakCounts(ulong LeakedBytes, ulong DubiousBytes, ulong ReachableBytes, ulong LeakedBlocks, ulong DubiousBlocks, ulong ReachableBlocks);
