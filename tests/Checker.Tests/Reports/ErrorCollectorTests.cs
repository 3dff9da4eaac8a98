using Checker.Reports;
using Xunit;
using static Checker.Tests.Reports.ReportSamples;

namespace Checker.Tests.Reports;

/// <summary>Duplicates by kind and top frames, numbering, counts, thread safety.</summary>
public class ErrorCollectorTests
{
    [Fact]
    public void RepeatsIncrementTheCountInsteadOfAddingAnError()
    {
        var collector = new ErrorCollector();
        ReportedError first = collector.Add(Unaddressable(0x1000, 0x2000), out bool firstIsNew);
        ReportedError again = collector.Add(Unaddressable(0x1000, 0x2000), out bool againIsNew);

        Assert.True(firstIsNew);
        Assert.False(againIsNew);
        Assert.Equal(1, first.Id);
        Assert.Equal((1, 2), (again.Id, again.Count));
        Assert.Same(first.Record, again.Record); // the first occurrence is the one shown
        ReportedError only = Assert.Single(collector.Errors);
        Assert.Equal(2, only.Count);
    }

    [Fact]
    public void KindAndEveryIdentityFrameTellErrorsApart()
    {
        var collector = new ErrorCollector(identityFrames: 3);
        Assert.True(collector.Add(Unaddressable(0x1000, 0x2000, 0x3000)));
        Assert.True(collector.Add(Leak(16, 0x1000, 0x2000, 0x3000)));          // other kind
        Assert.True(collector.Add(Unaddressable(0x1000, 0x2000, 0x3001)));      // third frame differs
        Assert.True(collector.Add(Unaddressable(0x1000, 0x2000)));              // shorter stack
        Assert.False(collector.Add(Unaddressable(0x1000, 0x2000, 0x3000, 0x4000))); // beyond N: same
        Assert.False(collector.Add(Unaddressable(0x1000, 0x2000, 0x3001, 0x5000)));
        Assert.Equal(4, collector.Errors.Count);
    }

    [Fact]
    public void TheDefaultIdentityIsSixFrames()
    {
        var collector = new ErrorCollector();
        Assert.Equal(6, collector.IdentityFrames);
        Assert.True(collector.Add(Unaddressable(1, 2, 3, 4, 5, 6, 7)));
        Assert.True(collector.Add(Unaddressable(1, 2, 3, 4, 5, 0x66, 7)));
        Assert.False(collector.Add(Unaddressable(1, 2, 3, 4, 5, 6, 0x77)));
    }

    [Fact]
    public void InlinedFramesShareTheirCallersPcAndCountOnce()
    {
        var collector = new ErrorCollector(identityFrames: 2);
        ErrorRecord physical = Unaddressable(0x1000, 0x2000);
        ErrorRecord inlined = physical with
        {
            Stack = [Frame(0x1000, "helper", 3) with { Inlined = true }, Frame(0x1000, "main", 7), Frame(0x2000, "start", 9), Frame(0x3000, "x", 1)],
        };
        Assert.True(collector.Add(physical));
        Assert.False(collector.Add(inlined));
    }

    [Fact]
    public void ErrorsAreNumberedInOrderOfFirstOccurrence()
    {
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x30));
        collector.Add(Leak(8, 0x10));
        collector.Add(Unaddressable(0x30));
        collector.Add(Unaddressable(0x20));
        collector.Add(Leak(8, 0x10));

        Assert.Equal(
            [(1, 0x30ul, 2), (2, 0x10ul, 2), (3, 0x20ul, 1)],
            collector.Errors.Select(e => (e.Id, e.Record.Stack[0].Pc, e.Count)));
    }

    [Fact]
    public void SummaryCountsUniqueAndTotalPerKindAndLeakBytes()
    {
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x30));
        collector.Add(Unaddressable(0x30));
        collector.Add(Unaddressable(0x31));
        collector.Add(Leak(16, 0x40));
        collector.Add(Leak(24, 0x40));
        collector.Add(Leak(8, 0x41));

        ErrorSummary summary = collector.Summary();
        Assert.Equal(new KindCounts(2, 3, 0), summary[ErrorKind.Unaddressable]);
        Assert.Equal(new KindCounts(2, 3, 48), summary[ErrorKind.Leak]);
        Assert.Equal(default, summary[ErrorKind.Uninitialized]);
        Assert.Equal(default, summary[ErrorKind.InvalidHeapArgument]);
        Assert.Equal(default, summary[ErrorKind.PossibleLeak]);
        Assert.Equal((4, 6), (summary.Unique, summary.Total));
    }

    [Fact]
    public void LeakRecordCountsOneOccurrencePerBlockItFolds()
    {
        // One record per allocation site: 100 blocks of 32 bytes, one of them holding 64 more bytes.
        var collector = new ErrorCollector();
        collector.Add(Leak(32, 0x40) with { Leak = new LeakInfo(3200 + 64, 100, Indirect: false, IndirectBytes: 64, IndirectBlocks: 2) });
        collector.Add(Leak(8, 0x41));

        Assert.Equal(new KindCounts(2, 101, 3272), collector.Summary()[ErrorKind.Leak]);
        Assert.Equal([100, 1], collector.Errors.Select(e => e.Count));
        Assert.Equal(3200UL, collector.Errors[0].Record.Leak!.DirectBytes);
    }

    [Fact]
    public void SnapshotsDoNotChangeAfterwards()
    {
        var collector = new ErrorCollector();
        collector.Add(Unaddressable(0x30));
        IReadOnlyList<ReportedError> before = collector.Errors;
        ErrorSummary summaryBefore = collector.Summary();
        collector.Add(Unaddressable(0x30));
        Assert.Equal(1, before[0].Count);
        Assert.Equal(1, summaryBefore.Total);
    }

    [Fact]
    public void ParallelAddsLoseNothingAndNumberEachErrorOnce()
    {
        const int Threads = 8, Distinct = 50, Repeats = 40;
        var announced = new List<int>();
        var collector = new ErrorCollector(onFirstOccurrence: e => announced.Add(e.Id)); // runs under the lock
        int newCount = 0;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (int r = 0; r < Repeats; r++)
            {
                for (int d = 0; d < Distinct; d++)
                {
                    ulong pc = (ulong)((d * 7 + t) % Distinct) + 0x1000;
                    if (collector.Add(d % 2 == 0 ? Unaddressable(pc) : Leak(1, pc))) Interlocked.Increment(ref newCount);
                }
            }
        });

        IReadOnlyList<ReportedError> errors = collector.Errors;
        int distinctIdentities = Distinct * 2; // each pc appears with both kinds across threads
        Assert.Equal(distinctIdentities, errors.Count);
        Assert.Equal(distinctIdentities, newCount);
        Assert.Equal(Enumerable.Range(1, distinctIdentities), errors.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(1, distinctIdentities), announced);
        Assert.Equal(Threads * Distinct * Repeats, errors.Sum(e => e.Count));
        ErrorSummary summary = collector.Summary();
        Assert.Equal(Threads * Distinct * Repeats, summary.Total);
        Assert.Equal((ulong)summary[ErrorKind.Leak].Total, summary[ErrorKind.Leak].Bytes);
    }

    [Fact]
    public void ARepeatKnownByItsRawStackIsCountedWithoutARecord()
    {
        var collector = new ErrorCollector(identityFrames: 2);
        var raw = new RawStack([0x1000, 0x2000, 0x3000], InnermostIsExact: true);
        Assert.False(collector.TryAddRepeat(ErrorKind.Unaddressable, raw));   // never added: the caller builds it
        collector.Add(Unaddressable(0x1000, 0x2000, 0x3000), raw, out bool isNew);
        Assert.True(isNew);

        Assert.True(collector.TryAddRepeat(ErrorKind.Unaddressable, raw));
        Assert.True(collector.TryAddRepeat(ErrorKind.Unaddressable, new RawStack([0x1000, 0x2000, 0x3000], true))); // equal content, other array
        Assert.True(collector.TryAddRepeat(ErrorKind.Unaddressable, new RawStack([0x1000, 0x2000, 0x9999], true))); // beyond the identity's frames
        Assert.False(collector.TryAddRepeat(ErrorKind.Uninitialized, raw));                                         // other kind
        Assert.False(collector.TryAddRepeat(ErrorKind.Unaddressable, raw with { InnermostIsExact = false }));        // symbolized at pc - 1
        Assert.False(collector.TryAddRepeat(ErrorKind.Unaddressable, new RawStack([0x1000, 0x2001], true)));

        ReportedError only = Assert.Single(collector.Errors);
        Assert.Equal(4, only.Count);
        Assert.Equal((1, 4), (collector.Summary()[ErrorKind.Unaddressable].Unique, collector.Summary()[ErrorKind.Unaddressable].Total));
    }

    [Fact]
    public void RecursionAtOneCallSiteDoesNotMakeANewRepeatKey()
    {
        var collector = new ErrorCollector(identityFrames: 2);
        collector.Add(Unaddressable(0x1000, 0x2000), new RawStack([0x1000, 0x2000, 0x2000, 0x3000], true), out _);
        // Deeper recursion: the same two distinct pcs first, then only frames beyond the identity.
        Assert.True(collector.TryAddRepeat(ErrorKind.Unaddressable, new RawStack([0x1000, 0x2000, 0x2000, 0x2000, 0x4000], true)));
        Assert.Equal(2, Assert.Single(collector.Errors).Count);
    }

    [Fact]
    public void ASuppressedRepeatCountsForItsSuppressionOnly()
    {
        int asked = 0;
        var collector = new ErrorCollector { Suppression = _ => { asked++; return "known"; } };
        var raw = new RawStack([0x1000], InnermostIsExact: true);
        ReportedError first = collector.Add(Unaddressable(0x1000), raw, out bool isNew);
        Assert.False(isNew);
        Assert.Equal("known", first.SuppressedBy);
        Assert.True(collector.TryAddRepeat(ErrorKind.Unaddressable, raw));
        Assert.True(collector.TryAddRepeat(ErrorKind.Unaddressable, raw));

        Assert.Equal(1, asked);
        Assert.Empty(collector.Errors);
        Assert.Equal(0, collector.Summary().Total);
        Assert.Equal([("known", 3)], collector.UsedSuppressions);
    }

    [Fact]
    public void KindTableGivesTheSchemaNamesAndHeadlines()
    {
        Assert.Equal(
            ["unaddressable", "uninitialized", "invalid-heap-arg", "leak", "possible-leak", "overlap", "fishy-argument"],
            Enum.GetValues<ErrorKind>().Select(k => k.JsonName()));
        Assert.Equal(
            ["UNADDRESSABLE ACCESS", "UNINITIALIZED READ", "INVALID HEAP ARGUMENT", "LEAK", "POSSIBLE LEAK", "OVERLAP", "FISHY ARGUMENT"],
            Enum.GetValues<ErrorKind>().Select(k => k.Headline()));
        foreach (ErrorKind kind in Enum.GetValues<ErrorKind>())
        {
            Assert.True(ErrorKinds.TryParseJsonName(kind.JsonName(), out ErrorKind? parsed));
            Assert.Equal(kind, parsed);
        }
        Assert.False(ErrorKinds.TryParseJsonName("UNADDRESSABLE", out _));
    }
}
