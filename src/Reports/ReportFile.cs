namespace Checker.Reports;

/// <summary>
/// How every report file (JSON, XML, SARIF, HTML) reaches the disk: written to a temporary file
/// next to the target and renamed over it, so a reader (a CI step, a browser) sees the old file
/// or the whole new one, never half a file, even when the program dies while it is written.
/// A target that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO a CI step reads)
/// is written in place: renaming over it would replace the device with a regular file.
/// </summary>
public static partial class ReportFile
{
    /// <summary>Whether <paramref name="path"/> (links followed) is an existing file other than a regular file or directory.</summary>
    public static bool IsSpecial(string path)
    {
        var status = new byte[StatSize];
        if (Stat(path, status) != 0) return false;
        uint type = BitConverter.ToUInt32(status, StatModeOffset) & TypeMask;
        return type != RegularFile && type != DirectoryType;
    }

    // struct stat on x86-64 Linux: st_mode is the u32 after st_dev, st_ino and st_nlink.
    private const int StatSize = 144, StatModeOffset = 24;
    private const uint TypeMask = 0xF000, RegularFile = 0x8000, DirectoryType = 0x4000;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "stat")]
    private static extern int Stat(string path, byte[] status);

    /// <param name="pid">The writing process's pid (<see cref="RunInfo.Pid"/>, not Environment.ProcessId: .NET
    /// caches that, so a forked child would share its parent's temporary name).</param>
    public static void Replace(string path, int pid, Action<Stream> write)
    {
        string fullPath = Path.GetFullPath(path);
        if (IsSpecial(fullPath))
        {
            using var direct = new FileStream(fullPath, FileMode.Open, FileAccess.Write);
            write(direct);
            return;
        }
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
