using System.Runtime.InteropServices;

namespace Checker.Symbols.Native;

/// <summary>A path that names something other than a regular file (a FIFO, a device, a directory, a socket).</summary>
public sealed class NotARegularFileException(string message) : IOException(message);

/// <summary>A file and its version: equal identities read the same bytes (short of a write that keeps size and time).</summary>
public readonly record struct FileIdentity(ulong Device, ulong Inode, long Size, long ModifiedSeconds, long ModifiedNanoseconds);

/// <summary>
/// A file opened for reading only when it is a regular file, as the kernel's open_exec insists for
/// an interpreter: opened with O_NONBLOCK (so a FIFO is never waited on) and checked with fstat on
/// the descriptor (no window between the check and the open), then read with pread at explicit
/// offsets, never past its size. Messages never repeat the path: callers name the file.
/// </summary>
public sealed unsafe class RegularFile : IDisposable
{
    private int _fd;

    private RegularFile(int fd, long length, FileIdentity identity)
    {
        _fd = fd;
        Length = length;
        Identity = identity;
    }

    /// <summary>The file's size when it was opened.</summary>
    public long Length { get; }

    /// <summary>Which file this is, and which version of it (device, inode, size, modification time) when it was opened.</summary>
    public FileIdentity Identity { get; }

    /// <summary>
    /// Opens <paramref name="path"/>. Throws <see cref="FileNotFoundException"/> when it does not exist,
    /// <see cref="UnauthorizedAccessException"/> when it cannot be read, <see cref="NotARegularFileException"/>
    /// when it is not a regular file, <see cref="IOException"/> otherwise.
    /// </summary>
    public static RegularFile Open(string path)
    {
        if (path.Length == 0 || path.Contains('\0')) throw new FileNotFoundException("no such file or directory");
        int fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0) throw ErrorFor(Marshal.GetLastPInvokeError());
        LibC.Stat stat;
        if (LibC.FStat(fd, &stat) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            LibC.Close(fd);
            throw ErrorFor(errno);
        }
        if ((stat.Mode & LibC.S_IFMT) != LibC.S_IFREG)
        {
            LibC.Close(fd);
            throw new NotARegularFileException($"not a regular file ({KindOf(stat.Mode)})");
        }
        return new RegularFile(fd, stat.Size, new FileIdentity(stat.Device, stat.Inode, stat.Size, stat.ModifiedSeconds, stat.ModifiedNanoseconds));
    }

    /// <summary>Reads the first min(size, <paramref name="limit"/>) bytes (fewer if the file shrinks meanwhile).</summary>
    public byte[] ReadPrefix(long limit)
    {
        var bytes = new byte[Math.Min(Length, limit)];
        int done = 0;
        while (done < bytes.Length)
        {
            int n = Read(bytes.AsSpan(done), done);
            if (n == 0) return bytes[..done];
            done += n;
        }
        return bytes;
    }

    /// <summary>One pread at <paramref name="offset"/>: the count read, 0 at the end of the file.</summary>
    public int Read(Span<byte> buffer, long offset)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        while (true)
        {
            nint n;
            fixed (byte* p = buffer) n = LibC.PRead(_fd, p, (nuint)buffer.Length, offset);
            if (n >= 0) return (int)n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR) throw ErrorFor(errno);
        }
    }

    public void Dispose()
    {
        if (_fd >= 0) LibC.Close(_fd);
        _fd = -1;
    }

    private const int ENOENT = 2, EINTR = 4, EACCES = 13, ENOTDIR = 20, EPERM = 1;

    private static Exception ErrorFor(int errno) => errno switch
    {
        ENOENT or ENOTDIR => new FileNotFoundException("no such file or directory"),
        EACCES or EPERM => new UnauthorizedAccessException("permission denied"),
        _ => new IOException(Marshal.GetPInvokeErrorMessage(errno).ToLowerInvariant()),
    };

    private static string KindOf(uint mode) => (mode & LibC.S_IFMT) switch
    {
        LibC.S_IFDIR => "a directory",
        LibC.S_IFCHR => "a character device",
        LibC.S_IFBLK => "a block device",
        LibC.S_IFIFO => "a FIFO",
        LibC.S_IFSOCK => "a socket",
        _ => $"file type {Convert.ToString(mode >> 12, 8)}",
    };
}
