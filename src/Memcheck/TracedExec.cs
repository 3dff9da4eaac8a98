using System.Globalization;

namespace Checker.Memcheck;

/// <summary>
/// How a memcheck that runs an exec'd program (--trace-children=yes) is started by the memcheck
/// of the process that exec'd it: it execs itself, in the same process, as
/// <c>memcheck --traced-exec INDEX ARGV0 EXECFN [options] -- PATH ARGS...</c>. The marker is internal
/// (not in --help): ARGV0 is the program's argv[0] as the exec gave it (memcheck's own argv[0] cannot
/// carry it), EXECFN its AT_EXECFN, PATH the file to run as given (never searched on PATH), INDEX
/// which name its --json file takes (<see cref="ReportFilePath"/>). Nothing of this reaches the
/// program's environment: the environment is exactly the one its exec passed.
/// </summary>
/// <param name="JsonIndex">0 for FILE.PID; n for FILE.PID.n when earlier programs of this pid wrote the names before it.</param>
public sealed record TracedExec(int JsonIndex, string Argv0, string ExecFn)
{
    public const string Marker = "--traced-exec";

    /// <summary>The marker and its values, if <paramref name="args"/> starts with them, and the rest of the command line.</summary>
    public static (TracedExec? Exec, string[] Remaining, string? Error) Take(string[] args)
    {
        if (args.Length == 0 || args[0] != Marker) return (null, args, null);
        if (args.Length < 4 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            return (null, args, $"{Marker} is memcheck's own (it runs programs that checked programs exec)");
        return (new TracedExec(index, args[2], args[3]), args[4..], null);
    }

    /// <summary>memcheck's command line for it, after memcheck's own argv[0].</summary>
    public IEnumerable<string> Arguments() => [Marker, JsonIndex.ToString(CultureInfo.InvariantCulture), Argv0, ExecFn];
}
