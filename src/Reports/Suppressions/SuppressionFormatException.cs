namespace Checker.Reports.Suppressions;

/// <summary>A suppression file that does not parse: what is wrong and where (memcheck exits 2 with its message).</summary>
public sealed class SuppressionFormatException(string file, int line, string problem)
    : Exception($"{file}:{line}: {problem}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Problem { get; } = problem;
}
