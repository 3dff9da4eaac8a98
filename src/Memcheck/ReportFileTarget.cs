using System.Runtime.Versioning;
using Checker.Engine.Native;

namespace Checker.Memcheck;

/// <summary>
/// Checks, before the program runs, that a report file (<c>--json</c>, <c>--xml</c>, ...) can be written when it ends. The
/// report is written to a temporary file next to the target and renamed over it (a reader never
/// sees half a file), so what must hold is that the target's directory exists and takes new files,
/// and that the target is not a directory: a probe file is created there and removed.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ReportFileTarget
{
    /// <summary>Why <paramref name="path"/> cannot take the report, in a few words; null when it can.</summary>
    public static string? Problem(string path)
    {
        string full = Path.GetFullPath(ReportFilePath.For(path, HostProcess.Id, forkedChild: false));
        if (Directory.Exists(full)) return "is a directory";
        // A device or FIFO is written in place: it needs only to be writable (never probed beside it in /dev).
        if (Checker.Reports.ReportFile.IsSpecial(full))
            return LibC.access(full, LibC.WriteOk) == 0 ? null : "cannot be written (permission denied)";
        string directory = Path.GetDirectoryName(full) ?? "/";
        if (File.Exists(directory)) return $"{directory} is not a directory";
        if (!Directory.Exists(directory)) return $"directory {directory} does not exist";
        string probe = Path.Combine(directory, $".{Path.GetFileName(full)}.{HostProcess.Id}.probe");
        try
        {
            new FileStream(probe, FileMode.CreateNew, FileAccess.Write).Dispose();
            File.Delete(probe);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"cannot create files in {directory} (permission denied)";
        }
        catch (FileNotFoundException)
        {
            return $"cannot create files in {directory}"; // ENOENT from a file system without new files (/proc)
        }
        catch (IOException e)
        {
            // .NET words errno as "<strerror> : '<path>'": keep the reason, not our probe's name.
            int quoted = e.Message.IndexOf(" : '", StringComparison.Ordinal);
            return $"cannot create files in {directory} ({(quoted > 0 ? e.Message[..quoted] : e.Message)})";
        }
    }
}
