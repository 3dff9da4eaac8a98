namespace Checker.Engine;

/// <summary>What to run and how: filled by the command line, flipped by tests.</summary>
public sealed record EngineOptions
{
    /// <summary>Absolute or relative path of the ELF executable to load (a script's interpreter): what /proc/self/exe means to the guest.</summary>
    public required string ExecutablePath { get; init; }
    /// <summary>The path execve would have been given (AT_EXECFN): the program as found on PATH, or the script.</summary>
    public required string ExecFn { get; init; }
    public required IReadOnlyList<string> Arguments { get; init; }
    public required IReadOnlyList<string> Environment { get; init; }
    /// <summary>--trace-events: each tool event is written as a line here before the tool sees it (null: none).</summary>
    public Action<string>? TraceEvents { get; init; }
    /// <summary>Collect statistics that cost time in generated code (indirect-lookup counts).</summary>
    public bool CollectStatistics { get; init; }
    /// <summary>Where translations are kept across runs (<see cref="CodeCache.PersistedTranslations"/>); null: not kept.</summary>
    public string? TranslationCacheDirectory { get; init; }
    /// <summary>Signals (bit n-1 for signal n) that were SIG_IGN when memcheck was executed: the guest inherits them.</summary>
    public ulong InitiallyIgnoredSignals { get; init; }
    /// <summary>The signal mask memcheck was executed with: the guest's at its start (signals the engine needs are never blocked).</summary>
    public ulong InitialSignalMask { get; init; }
    /// <summary>memcheck's own descriptors: the guest may not close or replace them.</summary>
    public IReadOnlyList<int> ToolDescriptors { get; init; } = [];
    /// <summary>The range memcheck's descriptors live in and the guest's RLIMIT_NOFILE (null: none, as in JIT builds).</summary>
    public Syscalls.DescriptorRange? ToolDescriptorRange { get; init; }
}
