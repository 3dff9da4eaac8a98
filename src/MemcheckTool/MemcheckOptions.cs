namespace Checker.MemcheckTool;

/// <summary>What memcheck's checks are configured with (from the command line, or tests).</summary>
public sealed record MemcheckOptions
{
    /// <summary>Redzone on each side of every heap block; null: grows with the block (<see cref="Heap.RedzonePolicy"/>).</summary>
    public ulong? RedzoneSize { get; init; }
    public ulong DelayFreesBytes { get; init; } = 4UL << 20;
    /// <summary>At most this many freed blocks wait in quarantine (Dr. Memory's -delay_frees default).</summary>
    public ulong DelayFrees { get; init; } = DefaultDelayFrees;
    public const ulong DefaultDelayFrees = 2000;
    public int CallstackMaxFrames { get; init; } = 12;
    /// <summary>Track definedness and report undefined values where they matter (--check-uninitialized).</summary>
    public bool CheckUninitialized { get; init; }
    /// <summary>Name the heap block an undefined value came from (--track-origins).</summary>
    public bool TrackOrigins { get; init; }
}
