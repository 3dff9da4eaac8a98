using Checker.Engine.Memory;
using Xunit;

namespace Checker.Tests.Memory;

/// <summary>Finding the file mapping that holds an address, read afresh or from a snapshot of /proc/self/maps.</summary>
public class ModuleLocatorTests
{
    [Fact]
    public void Snapshot_FindsWhatAFreshReadFinds()
    {
        FileMapping[] snapshot = ModuleLocator.Snapshot();
        Assert.NotEmpty(snapshot);
        for (int i = 1; i < snapshot.Length; i++) Assert.True(snapshot[i - 1].End <= snapshot[i].Start, "the kernel lists mappings by address");
        // Shared libraries only: they stay mapped while the test runs (other tests map and unmap files).
        foreach (FileMapping m in snapshot.Where(m => m.Path.Contains(".so")))
        {
            foreach (ulong address in new[] { m.Start, m.Start + (m.End - m.Start) / 2, m.End - 1 })
                Assert.Equal(ModuleLocator.Find(address), ModuleLocator.Find(snapshot, address));
        }
        Assert.Null(ModuleLocator.Find(snapshot, 0x1000));
    }
}
