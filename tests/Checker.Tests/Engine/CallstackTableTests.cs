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
}
