using Microsoft.Win32.SafeHandles;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// Which pages of a private mapping the process has ever stored to, from /proc/self/pagemap: a page
/// that is neither present nor swapped out still holds what the mapping started with (zeros, or the
/// file's bytes), so it cannot hold a pointer the program stored and the leak scan can skip it.
/// Reading it instead is not free: a kernel without a zero page (this machine's) allocates a fresh
/// page for every untouched page read, so scanning an idle thread's 8 MB stack made it resident
/// (threads1's peak RSS 57 MB for 1.4 MB native), and elsewhere it costs a fault a page. Valgrind
/// skips what its shadow calls unaddressable; this goes one step further, to what was never written.
/// Shared mappings are not filtered: their pages can leave this page table and keep what was stored.
/// When pagemap cannot be read (a restricted /proc), every page counts as written.
/// </summary>
public sealed class WrittenPages : IDisposable
{
    private const int PageShift = 12;
    private const ulong Present = 1UL << 63, Swapped = 1UL << 62;
    private const int EntriesPerRead = 512;

    private readonly SafeFileHandle? _pagemap;
    private readonly byte[] _raw = new byte[EntriesPerRead * sizeof(ulong)];

    private WrittenPages(SafeFileHandle? pagemap) => _pagemap = pagemap;

    /// <summary>The current process's page map, opened once for a scan (null inside: every page counts as written).</summary>
    public static WrittenPages OfCurrentProcess()
    {
        try { return new WrittenPages(File.OpenHandle("/proc/self/pagemap", FileMode.Open, FileAccess.Read)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new WrittenPages(null); }
    }

    public void Dispose() => _pagemap?.Dispose();

    /// <summary>The runs of pages in [start, end) (the ends clipped to the range) that were ever written.</summary>
    public IEnumerable<(ulong Start, ulong End)> Of(ulong start, ulong end)
    {
        if (start >= end) yield break;
        if (_pagemap is null)
        {
            yield return (start, end);
            yield break;
        }
        ulong firstPage = start >> PageShift, lastPage = (end - 1) >> PageShift;
        ulong runStart = 0;
        bool inRun = false;
        for (ulong page = firstPage; page <= lastPage;)
        {
            int count = (int)Math.Min((ulong)EntriesPerRead, lastPage - page + 1);
            if (Read(page, _raw.AsSpan(0, count * sizeof(ulong))) < count * sizeof(ulong))
            {
                // Unreadable here: count the rest as written rather than miss a pointer.
                if (!inRun) runStart = page << PageShift;
                yield return (Math.Max(runStart, start), end);
                yield break;
            }
            for (int k = 0; k < count; k++, page++)
            {
                bool written = (BitConverter.ToUInt64(_raw, k * sizeof(ulong)) & (Present | Swapped)) != 0;
                if (written && !inRun) { runStart = page << PageShift; inRun = true; }
                else if (!written && inRun)
                {
                    yield return (Math.Max(runStart, start), page << PageShift);
                    inRun = false;
                }
            }
        }
        if (inRun) yield return (Math.Max(runStart, start), end);
    }

    private int Read(ulong page, Span<byte> into)
    {
        try
        {
            int total = 0;
            while (total < into.Length)
            {
                int n = RandomAccess.Read(_pagemap!, into[total..], (long)(page * sizeof(ulong)) + total);
                if (n <= 0) break;
                total += n;
            }
            return total;
        }
        catch (IOException) { return 0; }
    }
}
