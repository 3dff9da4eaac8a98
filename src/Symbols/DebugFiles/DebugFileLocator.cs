using System.IO.Hashing;
using Checker.Symbols.Elf;
using Checker.Symbols.Native;

namespace Checker.Symbols.DebugFiles;

/// <summary>
/// Finds the separate debug file of a stripped ELF file, in gdb's order:
/// <list type="number">
/// <item>by build-id: <c>ROOT/.build-id/ab/cdef....debug</c> (first byte of the NT_GNU_BUILD_ID, then the rest, in hex);</item>
/// <item>by .gnu_debuglink, looked for next to the file (<c>DIR/NAME</c>, <c>DIR/.debug/NAME</c>)
/// and under the root (<c>ROOT/DIR/NAME</c>), for DIR as given and with symbolic links resolved
/// (/lib is /usr/lib on a merged-/usr system).</item>
/// </list>
/// ROOT is /usr/lib/debug (where Debian's -dbg packages install). A candidate counts only when it
/// is the same build: its build-id equals the file's, or, when the file has none, its CRC32 is the
/// one .gnu_debuglink records. Candidates are read only when they are regular files, with bounds.
/// </summary>
public sealed class DebugFileLocator
{
    /// <summary>Where distributions install separate debug files.</summary>
    public const string DefaultRoot = "/usr/lib/debug";

    /// <param name="root">The global debug directory (default /usr/lib/debug).</param>
    public DebugFileLocator(string root = DefaultRoot)
    {
        Root = root;
    }

    /// <summary>The global debug directory searched.</summary>
    public string Root { get; }

    /// <summary>The build-id path of a file with build-id <paramref name="buildId"/> under <see cref="Root"/>.</summary>
    public string BuildIdPath(ReadOnlySpan<byte> buildId)
    {
        if (buildId.Length < 2) throw new ArgumentException("a build-id has at least two bytes", nameof(buildId));
        string hex = Convert.ToHexStringLower(buildId);
        return System.IO.Path.Join(Root, ".build-id", hex[..2], hex[2..] + ".debug");
    }

    /// <summary>The paths tried for <paramref name="image"/>, in order (whether or not they exist).</summary>
    public IEnumerable<string> Candidates(ElfImage image)
    {
        if (image.BuildId is { Length: >= 2 } id) yield return BuildIdPath(id);
        if (image.DebugLink is not { Length: > 0 } link) yield break;

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string directory in Directories(image.Path))
        {
            foreach (string candidate in new[]
                     {
                         System.IO.Path.Join(directory, link),
                         System.IO.Path.Join(directory, ".debug", link),
                         System.IO.Path.Join(Root, directory, link),
                     })
            {
                if (seen.Add(candidate)) yield return candidate;
            }
        }
    }

    /// <summary>The path of the separate debug file of <paramref name="image"/>, or null when none is installed.</summary>
    public string? Find(ElfImage image) => FindImage(image)?.Path;

    /// <summary>The separate debug file of <paramref name="image"/>, read, or null when none is installed.</summary>
    public ElfImage? FindImage(ElfImage image)
    {
        string self = System.IO.Path.GetFullPath(image.Path);
        foreach (string candidate in Candidates(image))
        {
            if (!File.Exists(candidate)) continue;
            if (System.IO.Path.GetFullPath(candidate) == self) continue; // .gnu_debuglink naming the file itself
            ElfImage? debug = OpenIfSameBuild(image, candidate);
            if (debug != null) return debug;
        }
        return null;
    }

    /// <summary>
    /// The candidate read as a debug file when it is the same build. Only a regular file is read
    /// (a name that leads to a FIFO or a device is skipped, never waited on or read without end),
    /// and never more than its size (the CRC) or <see cref="ElfImage.ReadLimit"/> (the image).
    /// </summary>
    private static ElfImage? OpenIfSameBuild(ElfImage image, string candidate)
    {
        try
        {
            if (image.BuildId == null && image.DebugLinkCrc is uint crc && Crc32Of(candidate) != crc) return null;
            ElfImage debug = ElfImage.OpenDebugFile(candidate);
            if (image.BuildId != null && (debug.BuildId == null || !debug.BuildId.AsSpan().SequenceEqual(image.BuildId))) return null;
            return debug;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException)
        {
            return null;
        }
    }

    /// <summary>The CRC32 of a regular file of at most <see cref="ElfImage.ReadLimit"/> bytes; null otherwise.</summary>
    private static uint? Crc32Of(string path)
    {
        using RegularFile file = RegularFile.Open(path);
        if (file.Length > ElfImage.ReadLimit) return null;
        var hash = new Crc32();
        var buffer = new byte[1 << 20];
        for (long offset = 0; offset < file.Length;)
        {
            int n = file.Read(buffer.AsSpan(0, (int)Math.Min(buffer.Length, file.Length - offset)), offset);
            if (n == 0) break;
            hash.Append(buffer.AsSpan(0, n));
            offset += n;
        }
        return hash.GetCurrentHashAsUInt32();
    }

    /// <summary>The file's directory as given (made absolute) and with symbolic links resolved.</summary>
    private static IEnumerable<string> Directories(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string? given = System.IO.Path.GetDirectoryName(full);
        if (given != null) yield return given;

        string? resolved = null;
        try
        {
            resolved = System.IO.Path.GetDirectoryName(RealPath(full));
        }
        catch (IOException)
        {
        }
        if (resolved != null && resolved != given) yield return resolved;
    }

    /// <summary>The path with every symbolic link along it resolved (realpath without P/Invoke).</summary>
    private static string RealPath(string full)
    {
        string? directory = System.IO.Path.GetDirectoryName(full);
        string name = System.IO.Path.GetFileName(full);
        if (directory == null || name.Length == 0) return full;
        string parent = RealPath(directory);
        string joined = System.IO.Path.Join(parent, name);
        FileSystemInfo? target = new FileInfo(joined).ResolveLinkTarget(returnFinalTarget: true);
        return target?.FullName ?? joined;
    }
}
