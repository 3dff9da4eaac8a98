using System.Globalization;

namespace Checker.Memcheck;

/// <summary>
/// Which file a process writes its <c>--json</c> report to, so that processes of one run never
/// overwrite each other's: <c>%p</c> in the path is the writing process's pid (as in Valgrind's
/// file names), in every process; without it, the process memcheck started writes FILE and a
/// forked child writes FILE with its pid before the extension (<c>report.json</c> -> <c>report.4242.json</c>).
/// </summary>
public static class JsonReportPath
{
    public static string For(string path, int pid, bool forkedChild)
    {
        string number = pid.ToString(CultureInfo.InvariantCulture);
        if (path.Contains("%p", StringComparison.Ordinal)) return path.Replace("%p", number, StringComparison.Ordinal);
        if (!forkedChild) return path;
        string name = Path.GetFileName(path);
        string stem = Path.GetFileNameWithoutExtension(name), extension = Path.GetExtension(name);
        // A name that is all extension (".json") keeps it whole: ".json.4242".
        string own = stem.Length == 0 ? $"{name}.{number}" : $"{stem}.{number}{extension}";
        return Path.Combine(Path.GetDirectoryName(path) ?? "", own);
    }
}
