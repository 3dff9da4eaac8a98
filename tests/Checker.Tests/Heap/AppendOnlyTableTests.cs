using Checker.MemcheckTool.State;
using Xunit;

namespace Checker.Tests.Heap;

/// <summary>
/// The lock-free table of access and propagation sites (<see cref="AppendOnlyTable{T}"/>): items
/// across chunks and directory growth, snapshots, and a reader on another thread that must never
/// see a counted item unwritten.
/// </summary>
public sealed class AppendOnlyTableTests
{
    private readonly record struct Item(long Value, long Check);

    [Fact]
    public void ItemsComeBackByNumberAcrossChunksAndDirectoryGrowth()
    {
        var table = new AppendOnlyTable<Item>();
        const int count = 40_000;   // 40 chunks: the directory of 16 grows twice
        for (int i = 0; i < count; i++) Assert.Equal(i, table.Add(new Item(i, ~(long)i)));
        Assert.Equal(count, table.Count);
        for (int i = 0; i < count; i += 997) Assert.Equal(new Item(i, ~(long)i), table[i]);
        Assert.Equal(new Item(count - 1, ~(long)(count - 1)), table[count - 1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => table[count]);
        Assert.Throws<ArgumentOutOfRangeException>(() => table[-1]);
    }

    [Fact]
    public void ASnapshotsItemsRestoreInOrderAndNewOnesFollow()
    {
        var table = new AppendOnlyTable<Item>();
        for (int i = 0; i < 2_500; i++) table.Add(new Item(i, 2 * i));
        Item[] saved = table.Chunks().SelectMany(c => c.ToArray()).ToArray();
        Assert.Equal(2_500, saved.Length);

        var restored = new AppendOnlyTable<Item>();
        restored.Restore(saved);
        Assert.Equal(2_500, restored.Count);
        Assert.Equal(new Item(1_234, 2_468), restored[1_234]);
        Assert.Equal(2_500, restored.Add(new Item(-1, -1)));
        Assert.Throws<InvalidOperationException>(() => restored.Restore(saved));
    }

    [Fact]
    public void AReaderOnAnotherThreadSeesEveryCountedItemWhole()
    {
        var table = new AppendOnlyTable<Item>();
        const int count = 300_000;
        long bad = 0, reads = 0;
        using var started = new ManualResetEventSlim();
        using var stop = new ManualResetEventSlim();
        void Check()
        {
            int seen = table.Count;
            if (seen == 0) return;
            // The newest item and one in an early chunk: each written before its count.
            foreach (int id in (ReadOnlySpan<int>)[seen - 1, seen / 3])
            {
                Item item = table[id];
                if (item.Value != id || item.Check != ~(long)id) bad++;
                reads++;
            }
        }
        var reader = new Thread(() =>
        {
            started.Set();
            while (!stop.IsSet) Check();
            Check();
        });
        reader.Start();
        started.Wait();
        for (int i = 0; i < count; i++) table.Add(new Item(i, ~(long)i));
        stop.Set();
        reader.Join();
        Assert.Equal(0, bad);
        Assert.True(reads > 0);
    }
}
