using System.Runtime.InteropServices;
using Checker.Engine.CodeCache;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// The code region populates ahead of the translator on a thread of its own (BackgroundPopulation):
/// once a large program's code passes the small-program threshold, the next stretch becomes present
/// before anything is written there, and nothing far ahead is touched.
/// </summary>
public unsafe class CodeRegionPopulationTests
{
    private const ulong Megabyte = 1 << 20;

    [Fact]
    public void PagesAheadOfTheTranslatorBecomePresent_OnlyPastTheThresholdAndOnlyJustAhead()
    {
        const ulong Size = 64 * Megabyte;
        var region = new CodeRegion(0x2f00_0000_0000, Size);
        try
        {
            // A small program's worth of code: nothing is populated for it.
            while (region.Used < 8 * Megabyte) region.Allocate(4096, 16);
            Thread.Sleep(100);
            Assert.False(IsPresent(region.Start + 10 * Megabyte));

            // A large program's: the stretch just ahead of the next fragment fills in, written or not.
            while (region.Used < 13 * Megabyte + Megabyte / 2) region.Allocate(4096, 16);
            ulong ahead = (region.Start + region.Used + 2 * Megabyte - 1) & ~(2 * Megabyte - 1);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!IsPresent(ahead + 12345 / 4096 * 4096) && clock.ElapsedMilliseconds < 10_000) Thread.Sleep(10);
            Assert.True(IsPresent(ahead + 12345 / 4096 * 4096));
            Assert.False(IsPresent(region.Start + 40 * Megabyte));
        }
        finally
        {
            Munmap((nint)region.Start, (nuint)Size);
        }
    }

    // /proc/self/pagemap's present bit.
    private static bool IsPresent(ulong page)
    {
        using var pagemap = File.OpenHandle("/proc/self/pagemap");
        byte[] entry = new byte[8];
        Assert.Equal(8, RandomAccess.Read(pagemap, entry, (long)(page / 4096 * 8)));
        return (BitConverter.ToUInt64(entry) & (1UL << 63)) != 0;
    }

    [DllImport("libc", EntryPoint = "munmap")]
    private static extern int Munmap(nint address, nuint length);
}
