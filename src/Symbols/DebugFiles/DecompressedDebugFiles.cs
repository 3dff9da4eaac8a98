using Checker.Symbols.Elf;
using Checker.Symbols.Native;
using Microsoft.Win32.SafeHandles;

namespace Checker.Symbols.DebugFiles;

/// <summary>
/// Debug files whose DWARF sections are compressed (SHF_COMPRESSED, as Debian's libc6-dbg ships
/// them) cost libdw a full inflate of every section each time one is opened: dwarf_begin on libc's
/// takes 68 ms and 10 MB here, where the decompressed file takes under 1 ms and its pages are read
/// only as touched. memcheck opens libc's in every run that symbolizes a libc frame, a suppressed
/// one included (every threaded program's dtv block). So the first such run keeps a decompressed
/// copy (libelf's elf_compress, as eu-elfcompress -t none does) in the user's cache by build-id, and
/// later runs open that. Best effort throughout: no cache directory, a full disk, a copy that does
/// not match: the original file is opened as before. The copies are kept to <see cref="CacheLimit"/>
/// bytes: making one evicts those used least recently (a copy's access time, set when it is used
/// and a day old), so copies of debug files long upgraded away do not pile up.
/// </summary>
public static unsafe class DecompressedDebugFiles
{
    /// <summary>Where copies are kept: $XDG_CACHE_HOME/checker/debug, else ~/.cache/checker/debug; null without either (or when HOME does not exist).</summary>
    public static string? CacheDirectory
    {
        get
        {
            string? root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(root) || !Path.IsPathRooted(root))
            {
                // A HOME that does not exist (a service's /nonexistent) is not made: no copies then.
                string? home = Environment.GetEnvironmentVariable("HOME");
                if (string.IsNullOrEmpty(home) || !Path.IsPathRooted(home) || !Directory.Exists(home)) return null;
                root = Path.Combine(home, ".cache");
            }
            return Path.Combine(root, "checker", "debug");
        }
    }

    /// <summary>Whether any DWARF section of <paramref name="image"/> is compressed.</summary>
    public static bool HasCompressedDwarf(ElfImage image) =>
        image.Sections.Any(s => s.Name.StartsWith(".debug_", StringComparison.Ordinal) && (s.Flags & ElfConstants.SHF_COMPRESSED) != 0);

    /// <summary>
    /// The file to open for <paramref name="image"/>'s DWARF: a decompressed copy from the cache (made
    /// now if missing) when the image's DWARF is compressed and it has a build-id; else its own path.
    /// </summary>
    public static string PathFor(ElfImage image) => PathFor(image, CacheDirectory);

    /// <summary>The bytes of copies the cache keeps (1 GiB: libc's is 10 MB) before making one evicts others.</summary>
    public const long CacheLimit = 1L << 30;

    /// <summary><see cref="PathFor(ElfImage)"/> with copies kept in <paramref name="directory"/> (null: none), up to <paramref name="limit"/> bytes.</summary>
    public static string PathFor(ElfImage image, string? directory, long limit = CacheLimit)
    {
        if (image.BuildId is not { Length: > 0 } buildId || directory is null || !HasCompressedDwarf(image))
            return image.Path;
        try
        {
            string copy = Path.Combine(directory, Convert.ToHexStringLower(buildId) + ".debug");
            if (Matches(copy, buildId))
            {
                MarkUsed(copy);
                return copy;
            }
            Directory.CreateDirectory(directory);
            string temporary = $"{copy}.{Environment.ProcessId}.tmp";
            try
            {
                File.Copy(image.Path, temporary, overwrite: true);
                if (!Decompress(temporary) || !Matches(temporary, buildId)) return image.Path;
                // Whole or not at all: a concurrent run sees no copy or a finished one.
                File.Move(temporary, copy, overwrite: true);
                Prune(directory, limit, keep: copy);
                return copy;
            }
            finally
            {
                try { File.Delete(temporary); } catch (IOException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException)
        {
            return image.Path;
        }
    }

    // A day's resolution is enough for eviction, and spares a metadata write on most runs (relatime
    // mounts give much the same, noatime ones nothing).
    private static void MarkUsed(string copy)
    {
        try
        {
            DateTime now = DateTime.UtcNow;
            if (now - File.GetLastAccessTimeUtc(copy) > TimeSpan.FromDays(1)) File.SetLastAccessTimeUtc(copy, now);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Deletes the copies in <paramref name="directory"/> used least recently until the rest hold at
    /// most <paramref name="limit"/> bytes; <paramref name="keep"/>, just made, stays whatever its size.
    /// A run that has a deleted copy open keeps reading it; one about to open it makes it again.
    /// </summary>
    internal static void Prune(string directory, long limit, string keep)
    {
        var copies = new DirectoryInfo(directory).GetFiles("*.debug")
            .Where(f => f.FullName != Path.GetFullPath(keep))
            .OrderBy(f => f.LastAccessTimeUtc)
            .ToList();
        long total = copies.Sum(f => f.Length) + new FileInfo(keep).Length;
        foreach (FileInfo oldest in copies)
        {
            if (total <= limit) break;
            long length = oldest.Length;   // before the delete: a deleted FileInfo has no length
            try
            {
                oldest.Delete();
                total -= length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    // The copy is used only if it is an ELF file of the same build-id whose DWARF is not compressed.
    private static bool Matches(string path, byte[] buildId)
    {
        if (!File.Exists(path)) return false;
        try
        {
            ElfImage copy = ElfImage.Open(path);
            return copy.BuildId is { } id && id.AsSpan().SequenceEqual(buildId) && !HasCompressedDwarf(copy);
        }
        catch (ElfFormatException)
        {
            return false;   // damaged: made again
        }
    }

    /// <summary>Rewrites the ELF file at <paramref name="path"/> with every compressed section decompressed.</summary>
    private static bool Decompress(string path)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        LibElf.Version(1 /* EV_CURRENT */);
        nint elf = LibElf.Begin((int)file.DangerousGetHandle(), LibElf.ELF_C_RDWR, 0);
        if (elf == 0) return false;
        try
        {
            LibElf.SectionHeader header;
            for (nint section = LibElf.NextSection(elf, 0); section != 0; section = LibElf.NextSection(elf, section))
            {
                if (LibElf.GetSectionHeader(section, &header) == null) return false;
                if ((header.Flags & ElfConstants.SHF_COMPRESSED) != 0 && LibElf.Compress(section, LibElf.ELF_COMPRESS_NONE, 0) < 0) return false;
            }
            return LibElf.Update(elf, LibElf.ELF_C_WRITE) >= 0;
        }
        finally
        {
            LibElf.End(elf);
        }
    }
}
