using Checker.MemcheckTool.Heap;
using Xunit;

namespace Checker.Tests.Engine;

public class CallstackTableTests
{
    [Fact]
    public void EqualStacksShareOneArrayAndDifferentOnesDoNot()
    {
        var table = new CallstackTable();
        var stacks = Enumerable.Range(0, 10_000).Select(i => new ulong[] { 0x401000, (ulong)(0x402000 + i % 5000), (ulong)i % 3 }).ToList();
        ulong[][] interned = stacks.Select(s => table.Intern(s)).ToArray();
        for (int i = 0; i < stacks.Count; i++)
        {
            Assert.Equal(stacks[i], interned[i]);
            Assert.NotSame(stacks[i], interned[i]);
        }
        Assert.Equal(stacks.Select(s => string.Join(",", s)).Distinct().Count(), table.Count);
        Assert.Same(interned[0], table.Intern([0x401000, 0x402000, 0]));
        Assert.NotSame(table.Intern([0x401000]), table.Intern([0x401000, 0x402000]));
        Assert.Empty(table.Intern([]));
    }

    [Fact]
    public void EachDistinctStackHasOneNumberThatGivesItsSharedArray()
    {
        var table = new CallstackTable();
        // Enough stacks to grow both the slots and the numbered arrays several times; pcs that
        // differ only in their high bits too (the index must not come from the low bits alone).
        var stacks = Enumerable.Range(0, 20_000).Select(i => new ulong[] { 0x401000, (ulong)(i % 7000) << 32 | 0x1000, (ulong)i % 2 }).ToList();
        int[] ids = stacks.Select(s => table.InternId(s)).ToArray();
        for (int i = 0; i < stacks.Count; i++)
        {
            Assert.Equal(stacks[i], table[ids[i]]);
            Assert.Equal(ids[i], table.InternId(stacks[i]));
            Assert.Same(table[ids[i]], table.Intern(stacks[i]));
        }
        Assert.Equal(ids.Distinct().Count(), table.Count);
        Assert.Equal(stacks.Select(s => string.Join(",", s)).Distinct().Count(), table.Count);   // 7000 (i % 7000 fixes i % 2)
    }
}
