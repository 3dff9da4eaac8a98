using System.Globalization;

namespace Checker.Memcheck;

/// <summary>
/// Which file a process writes a report file to (<c>--json</c>, <c>--xml</c>, <c>--sarif</c>, <c>--html</c>), so that processes of one run never
/// overwrite each other's: <c>%p</c> in the path is the writing process's pid (as in Valgrind's
/// file names), in every process; without it, the process memcheck started writes FILE and a
/// forked child, or a program exec'd under memcheck, writes FILE with its pid before the extension
/// (<c>report.json</c> -> <c>report.4242.json</c>). A program exec'd in a process whose earlier
/// program already wrote that name (exec keeps the pid) adds <c>.1</c>, <c>.2</c>... after it
/// (<c>report.4242.1.json</c>, <c>out-4242.1.json</c> for <c>out-%p.json</c>). A target that is
/// not a regular file (/dev/null, a FIFO) is written by every process as it is.
/// </summary>
public static class ReportFilePath
{
    /// <param name="index">How many earlier programs of this pid wrote the child's name (<see cref="TracedExec.JsonIndex"/>).</param>
    public static string For(string path, int pid, bool forkedChild, int index = 0)
    {
        // A device or FIFO (/dev/null) is every process's target: no per-process names beside it.
        if (Checker.Reports.ReportFile.IsSpecial(path)) return path;
        string number = pid.ToString(CultureInfo.InvariantCulture);
        string? nth = index > 0 ? index.ToString(CultureInfo.InvariantCulture) : null;
        if (path.Contains("%p", StringComparison.Ordinal))
        {
            string own = path.Replace("%p", number, StringComparison.Ordinal);
            return nth == null ? own : Insert(own, nth);
        }
        return forkedChild ? Insert(path, nth == null ? number : $"{number}.{nth}") : path;
    }

    /// <summary>"dir/stem.ext" -> "dir/stem.WHAT.ext"; a name that is all extension (".json") keeps it whole: ".json.WHAT".</summary>
    private static string Insert(string path, string what)
    {
        string name = Path.GetFileName(path);
        string stem = Path.GetFileNameWithoutExtension(name), extension = Path.GetExtension(name);
        string own = stem.Length == 0 ? $"{name}.{what}" : $"{stem}.{what}{extension}";
        return Path.Combine(Path.GetDirectoryName(path) ?? "", own);
    }
}
