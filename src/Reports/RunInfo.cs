namespace Checker.Reports;

/// <summary>The run a report is about: the program as given, its arguments, its pid and how it ended.</summary>
/// <param name="Program">The program's path (absolute when memcheck resolved it).</param>
/// <param name="Args">Its arguments, without the program itself.</param>
/// <param name="Pid">Its process id.</param>
/// <param name="ExitCode">Its exit status (128+signal when a signal ended it).</param>
/// <param name="Death">The signal that killed the program, when one did.</param>
/// <param name="EngineFailure">Why memcheck could not run the program to its end, when it could not.</param>
public sealed record RunInfo(string Program, IReadOnlyList<string> Args, int Pid, int ExitCode,
    DeathInfo? Death = null, EngineFailureInfo? EngineFailure = null)
{
    /// <summary>The program this process exec'd, when its report ends at an exec (then it has no exit code).</summary>
    public string? Exec { get; init; }
    /// <summary>The number of the nudge this report is for (a leak check while the program runs: no exit code).</summary>
    public int? Nudge { get; init; }
}

/// <summary>
/// The program died of a signal: which, where (the application pc, the stack), the faulting
/// address for SIGSEGV/SIGBUS, and the error that reports the faulting access (when it was one).
/// </summary>
public sealed record DeathInfo(int Signal, string Name, string Description, ulong? Pc = null, ulong? Address = null,
    IReadOnlyList<ReportFrame>? Stack = null, int? ErrorId = null);

/// <summary>memcheck stopped the run: an engine failure or a feature not built yet. Its results are incomplete.</summary>
public sealed record EngineFailureInfo(string Message);
