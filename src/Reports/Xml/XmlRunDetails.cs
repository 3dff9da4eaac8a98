namespace Checker.Reports.Xml;

/// <summary>
/// What Valgrind's XML says about the tool's own run that <see cref="RunInfo"/> does not hold:
/// memcheck's executable and options (<c>&lt;vargv&gt;</c>), the parent's pid, the version for the
/// preamble, and the two <c>&lt;status&gt;</c> times.
/// </summary>
/// <param name="ToolExecutable">memcheck's own executable.</param>
/// <param name="ToolArguments">memcheck's options as given (<c>--leak-check=full</c>), without the program.</param>
/// <param name="ParentPid">The pid of the process that started this one.</param>
/// <param name="Version">memcheck's version.</param>
/// <param name="Started">When the program started (RUNNING), from the start of the run.</param>
/// <param name="Finished">When the program ended (FINISHED), from the start of the run.</param>
public sealed record XmlRunDetails(string ToolExecutable, IReadOnlyList<string> ToolArguments, int ParentPid, string Version,
    TimeSpan Started, TimeSpan Finished);
