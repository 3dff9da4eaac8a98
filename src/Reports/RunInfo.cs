namespace Checker.Reports;

/// <summary>The run a report is about: the program as given, its arguments, its pid and how it ended.</summary>
/// <param name="Program">The program's path (absolute when memcheck resolved it).</param>
/// <param name="Args">Its arguments, without the program itself.</param>
/// <param name="Pid">Its process id.</param>
/// <param name="ExitCode">Its exit status (128+signal when a signal ended it).</param>
public sealed record RunInfo(string Program, IReadOnlyList<string> Args, int Pid, int ExitCode);
