namespace Checker.Reports;

/// <summary>
/// How every report file (JSON, XML, SARIF, HTML) reaches the disk: written to a temporary file
/// next to the target and renamed over it, so a reader (a CI step, a browser) sees the old file
/// or the whole new one, never half a file, even when the program dies while it is written.
/// </summary>
public static class ReportFile
{
    /// <param name="pid">The writing process's pid (<see cref="RunInfo.Pid"/>, not Environment.ProcessId: .NET
    /// caches that, so a forked child would share its parent's temporary name).</param>
    public static void Replace(string path, int pid, Action<Stream> write)
    {
        string fullPath = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(fullPath) ?? ".", $".{Path.GetFileName(fullPath)}.{pid}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true); // rename(2): atomic within a file system
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
