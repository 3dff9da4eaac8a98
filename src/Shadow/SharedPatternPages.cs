using Checker.Shadow.Native;

namespace Checker.Shadow;

/// <summary>
/// Shadow pages that read all one state without being written: private (copy-on-write) mappings
/// of one small memory file full of that state's pattern (0xFF Unaddressable, 0x55 Undefined), as
/// Valgrind points whole secondary maps at its shared NOACCESS and UNDEFINED maps. Marking a large
/// freed heap block, or a large fresh one, then costs a few mmap calls instead of faulting in and
/// filling a quarter of its size in shadow (a program that frees a 64 MB block and mallocs a larger
/// one again and again otherwise spends seconds to minutes in page faults), and the pages cost no
/// memory until written. Writes to such a page copy it first, so every other use of the shadow is
/// unchanged, except one: MADV_DONTNEED would bring the file's pattern back instead of zeros, so
/// ranges mapped here are remembered and made Defined by mapping fresh anonymous memory over them.
/// </summary>
internal sealed unsafe class SharedPatternPages : IDisposable
{
    /// <summary>The file's size: each mmap covers at most this much shadow (16 MiB of application memory).</summary>
    private const ulong FileSize = 4 << 20;

    private readonly int _fd;
    private readonly byte _pattern;
    // How much of the file holds the pattern: filled as far as the longest mapping so far needs (a
    // run's only large range is often the 256 KiB below its stack; writing all 4 MiB cost more than
    // the page faults the mapping saves).
    private ulong _filled;
    // Disjoint page-aligned shadow ranges mapped from the file, by start.
    private readonly SortedList<ulong, ulong> _mapped = new();

    private SharedPatternPages(int fd, byte pattern)
    {
        _fd = fd;
        _pattern = pattern;
    }

    /// <summary>The memory file's descriptor (memcheck's own: the program must not close or replace it).</summary>
    public int Descriptor => _fd;

    /// <summary>Creates the (still empty) memory file of <paramref name="pattern"/>, its descriptor at or above <paramref name="lowestDescriptor"/> when possible; null if the kernel refuses.</summary>
    public static SharedPatternPages? Create(int lowestDescriptor, byte pattern, string name)
    {
        int fd = ShadowLibC.memfd_create(name, ShadowLibC.MfdCloexec);
        if (fd < 0) return null;
        if (ShadowLibC.ftruncate(fd, (long)FileSize) != 0)
        {
            ShadowLibC.close(fd);
            return null;
        }
        int moved = ShadowLibC.fcntl(fd, ShadowLibC.FDupFdCloexec, lowestDescriptor);
        if (moved >= 0)
        {
            ShadowLibC.close(fd);
            fd = moved;
        }
        return new SharedPatternPages(fd, pattern);
    }

    /// <summary>Maps the file over the whole shadow pages [start, end); false (nothing changed for certain) if it could not.</summary>
    public bool TryMap(ulong start, ulong end)
    {
        if (!Fill(Math.Min(FileSize, end - start))) return false;
        for (ulong at = start; at < end;)
        {
            ulong length = Math.Min(FileSize, end - at);
            nint mapped = ShadowLibC.mmap((nint)at, (nuint)length, ShadowLibC.ProtRead | ShadowLibC.ProtWrite,
                ShadowLibC.MapPrivate | ShadowLibC.MapFixed, _fd, 0);
            if (mapped == ShadowLibC.MapFailed)
            {
                // Part of the range may be mapped already: those pages are right; remember them.
                Remember(start, at);
                return false;
            }
            at += length;
        }
        Remember(start, end);
        return true;
    }

    /// <summary>Whether any page of [start, end) is mapped from the file.</summary>
    public bool Overlaps(ulong start, ulong end)
    {
        if (_mapped.Count == 0) return false;
        int i = Floor(end - 1);
        return i >= 0 && _mapped.GetValueAtIndex(i) > start;
    }

    /// <summary>[start, end) is anonymous memory again: forget it.</summary>
    public void Forget(ulong start, ulong end)
    {
        for (int i = Floor(end - 1); i >= 0; i--)
        {
            ulong s = _mapped.GetKeyAtIndex(i), e = _mapped.GetValueAtIndex(i);
            if (e <= start) break;
            _mapped.RemoveAt(i);
            if (s < start) _mapped[s] = start;
            if (e > end) _mapped[end] = e;
        }
    }

    public void Dispose() => ShadowLibC.close(_fd);

    private void Remember(ulong start, ulong end)
    {
        if (start >= end) return;
        Forget(start, end);
        // Merge with neighbours so the list stays short.
        int before = Floor(start - 1);
        if (before >= 0 && _mapped.GetValueAtIndex(before) == start)
        {
            start = _mapped.GetKeyAtIndex(before);
            _mapped.RemoveAt(before);
        }
        if (_mapped.TryGetValue(end, out ulong after))
        {
            _mapped.Remove(end);
            end = after;
        }
        _mapped[start] = end;
    }

    // The index of the last range starting at or before address, or -1.
    private int Floor(ulong address)
    {
        int lo = 0, hi = _mapped.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_mapped.GetKeyAtIndex(mid) <= address) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    // The file's first <length> bytes (rounded up to the chunk) hold the pattern.
    private bool Fill(ulong length)
    {
        if (_filled >= length) return true;
        byte[] chunk = new byte[64 * 1024];
        Array.Fill(chunk, _pattern);
        fixed (byte* p = chunk)
        {
            for (; _filled < length; _filled += (ulong)chunk.Length)
                if (ShadowLibC.pwrite(_fd, p, (nuint)chunk.Length, (long)_filled) != chunk.Length) return false;
        }
        return true;
    }
}
