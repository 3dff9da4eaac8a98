using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Checker.Tests.Shadow;

/// <summary>
/// Which pages of our own address space hold private memory, from /proc/self/pagemap. A page the
/// process wrote is present and exclusively mapped (bit 56); a page only read maps the kernel's
/// shared zero page, which is present but not exclusive and costs no memory, so it is not counted.
/// </summary>
internal static class ShadowPageMap
{
    private const int PageSize = 4096;
    private const ulong Present = 1UL << 63, Exclusive = 1UL << 56;

    /// <summary>
    /// Whether reading untouched anonymous memory maps the kernel's shared zero page. Not on every
    /// kernel: some hypervisors' guest kernels (booted with pvm_no_zero_page=1) give every page read
    /// a private page of its own, and then no page count can tell the shadow's reads from its
    /// writes: the tests' "costs no memory" assertions hold only where this is true.
    /// </summary>
    public static bool ReadsMapTheZeroPage { get; } = ProbeZeroPage();

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc")]
    private static extern int munmap(nint address, nuint length);

    private static unsafe bool ProbeZeroPage()
    {
        const int ProtRead = 1, MapPrivate = 2, MapAnonymous = 0x20;
        nint page = mmap(0, PageSize, ProtRead, MapPrivate | MapAnonymous, -1, 0);
        if (page == -1) return true;
        _ = Volatile.Read(ref *(byte*)page);
        bool zeroPage = PrivateBytes((ulong)page, (ulong)page + PageSize) == 0;
        munmap(page, PageSize);
        return zeroPage;
    }

    /// <summary>Bytes of private pages among the pages overlapping [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public static ulong PrivateBytes(ulong start, ulong end)
    {
        ulong firstPage = start / PageSize, endPage = (end + PageSize - 1) / PageSize;
        using var pagemap = new FileStream("/proc/self/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        var entries = new byte[8 * 8192];
        ulong pages = 0;
        for (ulong page = firstPage; page < endPage;)
        {
            int count = (int)Math.Min(8192, endPage - page);
            pagemap.Position = (long)(page * 8);
            pagemap.ReadExactly(entries, 0, count * 8);
            for (int i = 0; i < count; i++)
            {
                ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(i * 8));
                if ((entry & (Present | Exclusive)) == (Present | Exclusive)) pages++;
            }
            page += (ulong)count;
        }
        return pages * PageSize;
    }
}
