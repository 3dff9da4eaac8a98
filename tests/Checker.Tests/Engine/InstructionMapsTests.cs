using Checker.Engine.CodeCache;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>Fragments' instruction maps live in one store of packed entries: pcs from lengths, offsets, held registers.</summary>
public class InstructionMapsTests
{
    [Fact]
    public void AFragmentHoldsNoReference()
    {
        // A large program keeps ~130K of them for the whole run: fields of value types only, which
        // the collector never scans (the maps are passed in, not referenced).
        var fields = typeof(Fragment).GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic);
        Assert.NotEmpty(fields);
        Assert.All(fields, f => Assert.True(f.FieldType.IsPrimitive || f.FieldType.IsEnum, $"{f.Name}: {f.FieldType}"));
    }

    [Fact]
    public void AFragmentFindsTheInstructionAndHeldRegisterAtACachePc()
    {
        var maps = new InstructionMaps();
        maps.Reserve(5);   // another fragment's entries before
        // Three instructions at 0x401000 (lengths 3, 5, 15) translated at offsets 0, 40, 41 of the fragment.
        int start = maps.Reserve(3);
        maps.Set(start, 0, 3, -1);
        maps.Set(start + 1, 40, 5, 2);
        maps.Set(start + 2, 41, 15, 15);
        var fragment = new Fragment(0x401000, 0x401017, 0x7000_1000, 100);
        fragment.SetInstructionMap(start, 3);

        Assert.Equal(0x401000UL, fragment.ApplicationPcAt(maps, 0x7000_1000));
        Assert.Equal(0x401000UL, fragment.ApplicationPcAt(maps, 0x7000_1000 + 39));
        Assert.Equal(0x401003UL, fragment.ApplicationPcAt(maps, 0x7000_1000 + 40));
        Assert.Equal(0x401008UL, fragment.ApplicationPcAt(maps, 0x7000_1000 + 41));
        Assert.Equal(0x401008UL, fragment.ApplicationPcAt(maps, 0x7000_1000 + 99));
        Assert.Equal(-1, fragment.HeldRegisterAt(maps, 0x7000_1000 + 10));
        Assert.Equal(2, fragment.HeldRegisterAt(maps, 0x7000_1000 + 40));
        Assert.Equal(15, fragment.HeldRegisterAt(maps, 0x7000_1000 + 50));
        // Before the entry: the fragment's own pc, nothing held.
        Assert.Equal(0x401000UL, fragment.ApplicationPcAt(maps, 0x7000_0ff8));
        Assert.Equal(-1, fragment.HeldRegisterAt(maps, 0x7000_0ff8));
    }

    [Fact]
    public void EntriesNeverStraddleAChunkAndKeepTheirValuesAsTheStoreGrows()
    {
        var maps = new InstructionMaps();
        var starts = new List<(int Start, int Count)>();
        for (int f = 0; f < 20_000; f++)
        {
            int count = 1 + f % 128;
            int start = maps.Reserve(count);
            for (int i = 0; i < count; i++) maps.Set(start + i, i * 7 + f % 1000, 1 + (i + f) % 15, (i + f) % 17 - 1);
            starts.Add((start, count));
        }
        for (int f = 0; f < starts.Count; f++)
        {
            (int start, int count) = starts[f];
            Assert.Equal(start >> 14, (start + count - 1) >> 14);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(i * 7 + f % 1000, maps.Offset(start + i));
                Assert.Equal(1 + (i + f) % 15, maps.Length(start + i));
                Assert.Equal((i + f) % 17 - 1, maps.Held(start + i));
            }
        }
    }

    [Fact]
    public void AnOffsetBeyondTheEntrysRangeIsAnEngineError()
    {
        var maps = new InstructionMaps();
        int start = maps.Reserve(1);
        Assert.Throws<Checker.Engine.EngineException>(() => maps.Set(start, InstructionMaps.MaxOffset + 1, 1, -1));
    }
}
