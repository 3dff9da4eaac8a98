using System.Runtime.InteropServices;
using Checker.MemcheckTool.Heap;
using Xunit;

namespace Checker.Tests.Heap;

/// <summary>
/// The memo of callstack walks (<see cref="WalkMemo"/>, <see cref="WalkRecorder"/>): a remembered
/// walk is returned only while the stack words it used hold what it read, on a synthetic stack in
/// native memory (the walker reads the guest stack through pointers).
/// </summary>
public sealed unsafe class CallstackMemoTests : IDisposable
{
    private const int StackSize = 0x2000;
    private readonly ulong _stack = (ulong)NativeMemory.AllocZeroed(StackSize);

    private ulong StackTop => _stack + StackSize;

    public void Dispose() => NativeMemory.Free((void*)_stack);

    private void Write(ulong offset, ulong value) => *(ulong*)(_stack + offset) = value;

    /// <summary>A frame-pointer chain: rbp at +0x100 -> +0x200 -> +0x300 (outermost), return addresses above each.</summary>
    private void BuildChain()
    {
        Write(0x100, _stack + 0x200);
        Write(0x108, 0x401100);
        Write(0x200, _stack + 0x300);
        Write(0x208, 0x401200);
        Write(0x300, 0);
        Write(0x308, 0x401300);
    }

    private ulong[] Capture(ulong rbpOffset = 0x100, int maxFrames = 12) =>
        CallstackCapture.CaptureAt(0x401000, _stack, _stack + rbpOffset, StackTop, maxFrames, rules: null);

    [Fact]
    public void RepeatedWalksSeeEveryChangeOfTheWordsTheyUse()
    {
        BuildChain();
        Assert.Equal([0x401000UL, 0x401100, 0x401200, 0x401300], Capture());
        Assert.Same(Capture(), Capture());

        Write(0x208, 0x401250);   // a return address
        Assert.Equal([0x401000UL, 0x401100, 0x401250, 0x401300], Capture());

        Write(0x200, _stack + 0x400);   // a saved frame pointer the chain follows
        Write(0x400, 0);
        Write(0x408, 0x401400);
        Assert.Equal([0x401000UL, 0x401100, 0x401250, 0x401400], Capture());

        Write(0x108, 0x400fff);   // a return address below 0x1000 would end it; this one does not
        Assert.Equal([0x401000UL, 0x400fff, 0x401250, 0x401400], Capture());
        Write(0x108, 0x10);
        Assert.Equal([0x401000UL], Capture());
    }

    [Fact]
    public void WalksFromAnotherFramePointerOrWithOtherLimitsAreNotTheRememberedOne()
    {
        BuildChain();
        Assert.Equal([0x401000UL, 0x401100, 0x401200, 0x401300], Capture());
        Assert.Equal([0x401000UL, 0x401200, 0x401300], Capture(rbpOffset: 0x200));
        Assert.Equal([0x401000UL, 0x401100], Capture(maxFrames: 2));
        Assert.Equal([0x401000UL, 0x401100, 0x401200, 0x401300], Capture());
    }

    [Fact]
    public void AnEntryOnlyMatchesItsStartAndTheWordsItUsed()
    {
        var memo = NewMemo();
        var start = new WalkStart(0x401000, _stack, 0x1234, Exact: false, StackTop, 12);
        int stack = CallstackCapture.Stacks.InternId([0x401000, 0x401100]);
        Write(0x10, 0x401100);
        memo.Remember(start, usesRbp: false, [new StackWord(_stack + 0x10, 0x401100)], stack);

        Assert.True(memo.TryGet(start, out int found));
        Assert.Equal(stack, found);
        Assert.True(memo.TryGet(start with { Rbp = 0x5678 }, out _));   // rbp not used by that walk
        Assert.False(memo.TryGet(start with { Rsp = _stack + 8 }, out _));
        Assert.False(memo.TryGet(start with { Pc = 0x401001 }, out _));
        Assert.False(memo.TryGet(start with { Exact = true }, out _));
        Assert.False(memo.TryGet(start with { MaxFrames = 11 }, out _));
        Assert.False(memo.TryGet(start with { StackTop = StackTop - 8 }, out _));
        Write(0x10, 0x401108);
        Assert.False(memo.TryGet(start, out _));

        memo.Remember(start, usesRbp: true, [], stack);
        Assert.True(memo.TryGet(start, out _));
        Assert.False(memo.TryGet(start with { Rbp = 0x5678 }, out _));
    }

    [Fact]
    public void SeveralWalksFromOneStartAreRememberedTogether()
    {
        var memo = NewMemo();
        var start = new WalkStart(0x401000, _stack, 0, Exact: false, StackTop, 12);
        // Four callers at the same depth: the word at +0x10 tells them apart.
        for (ulong caller = 0; caller < 4; caller++)
            memo.Remember(start, usesRbp: false, [new StackWord(_stack + 0x10, 0x402000 + caller)], CallstackCapture.Stacks.InternId([0x401000, 0x402000 + caller]));
        for (ulong caller = 0; caller < 4; caller++)
        {
            Write(0x10, 0x402000 + caller);
            Assert.True(memo.TryGet(start, out int found));
            Assert.Equal([0x401000UL, 0x402000 + caller], CallstackCapture.Stacks[found]);
        }
    }

    [Fact]
    public void AMemoGrowsOnlyWhenItsWalksOutnumberItsEntries_KeepingThem()
    {
        // A thread of few call sites keeps the small memo (~87 KB, not 1.4 MB: many threads, each its own).
        var memo = NewMemo();
        int small = memo.Capacity;
        WalkStart StartOf(ulong i) => new(0x401000 + 0x40 * (i % 64), _stack + 8 * (i / 64), 0, Exact: false, StackTop, 12);
        for (ulong i = 0; i < (ulong)small; i++)
            memo.Remember(StartOf(i), usesRbp: false, [], CallstackCapture.Stacks.InternId([StartOf(i).Pc, 0x600000 + i]));
        Assert.Equal(small, memo.Capacity);
        memo.Remember(StartOf((ulong)small), usesRbp: false, [], CallstackCapture.Stacks.InternId([StartOf((ulong)small).Pc, 0x600000 + (ulong)small]));
        Assert.True(memo.Capacity > small, "the memo did not grow");
        // The walks remembered before it grew are still there (their last way in a small set survived the move).
        Assert.True(memo.TryGet(StartOf((ulong)small - 1), out int found));
        Assert.Equal([StartOf((ulong)small - 1).Pc, 0x600000 + (ulong)small - 1], CallstackCapture.Stacks[found]);
    }

    [Fact]
    public void AProgramsWorkingSetOfWalksStaysRemembered()
    {
        // sqlite's ~500 distinct walks thrashed a memo of 64 sets of 4 ways (26% of its walks missed).
        // As captures use it: a walk is remembered when the memo misses it. The first pass fills (and
        // grows) the memo; after it the whole working set is held.
        var memo = NewMemo();
        const int Starts = 512;
        for (int pass = 0; pass < 2; pass++)
            for (ulong i = 0; i < Starts; i++)
            {
                var start = new WalkStart(0x401000 + 0x40 * (i % 64), _stack + 8 * (i / 64), 0, Exact: false, StackTop, 12);
                if (!memo.TryGet(start, out _)) memo.Remember(start, usesRbp: false, [], CallstackCapture.Stacks.InternId([start.Pc, 0x500000 + i]));
            }
        for (ulong i = 0; i < Starts; i++)
        {
            var start = new WalkStart(0x401000 + 0x40 * (i % 64), _stack + 8 * (i / 64), 0, Exact: false, StackTop, 12);
            Assert.True(memo.TryGet(start, out int found), $"walk {i} forgotten");
            Assert.Equal([start.Pc, 0x500000 + i], CallstackCapture.Stacks[found]);
        }
    }

    [Fact]
    public void ASavedFramePointerIsUsedOnlyOnceAStepComputesWithIt()
    {
        var recorder = new WalkRecorder(new StackWord[8], new bool[8]);
        recorder.Read(0x100, 0xaaaa, isUsed: false);   // a frame saves rbp
        recorder.RbpFromLastRead();
        recorder.Read(0x108, 0x401100, isUsed: true);   // and returns
        Assert.True(recorder.TryGetUsed(8, out ReadOnlySpan<StackWord> used));
        Assert.Equal([new StackWord(0x108, 0x401100)], used.ToArray());
        Assert.False(recorder.UsesEntryRbp);

        recorder = new WalkRecorder(new StackWord[8], new bool[8]);
        recorder.Read(0x100, 0xaaaa, isUsed: false);
        recorder.RbpFromLastRead();
        recorder.Read(0x108, 0x401100, isUsed: true);
        recorder.UseRbp();   // the next frame's CFA is rbp-based
        Assert.True(recorder.TryGetUsed(8, out used));
        Assert.Equal([new StackWord(0x100, 0xaaaa), new StackWord(0x108, 0x401100)], used.ToArray());
        Assert.False(recorder.UsesEntryRbp);

        recorder = new WalkRecorder(new StackWord[8], new bool[8]);
        recorder.UseRbp();
        Assert.True(recorder.UsesEntryRbp);
    }

    [Fact]
    public void WalksThatUseTooManyWordsAreNotRemembered()
    {
        var recorder = new WalkRecorder(new StackWord[2], new bool[2]);
        recorder.Read(0x100, 1, isUsed: true);
        recorder.Read(0x108, 2, isUsed: true);
        Assert.False(recorder.TryGetUsed(1, out _));
        recorder.Read(0x110, 3, isUsed: true);   // past the buffer
        Assert.False(recorder.TryGetUsed(8, out _));
    }

    [Fact]
    public void AnEndedThreadsMemoIsTheNextThreadsEmptied_AGrownOneIsNot()
    {
        // Rules of this test's own: no other test's threads take its memos.
        using var rules = new Checker.Symbols.Unwinding.FrameRuleCache(_ => null);
        var start = new WalkStart(0x401000, _stack, 0, Exact: false, StackTop, 12);
        WalkMemo OnNewThread(Func<WalkMemo> body)
        {
            WalkMemo? result = null;
            var thread = new Thread(() => result = body());
            thread.Start();
            thread.Join();
            return result!;
        }
        WalkMemo first = OnNewThread(() =>
        {
            WalkMemo memo = WalkMemo.For(rules);
            memo.Remember(start, usesRbp: false, [], CallstackCapture.Stacks.InternId([0x401000, 0x402000]));
            WalkMemo.ReleaseCurrent();
            return memo;
        });
        WalkMemo second = OnNewThread(() =>
        {
            WalkMemo memo = WalkMemo.For(rules);
            Assert.False(memo.TryGet(start, out _), "a walk of the ended thread was still remembered");
            // Grown past its first size: not given on.
            for (ulong i = 0; i <= (ulong)memo.Capacity; i++)
                memo.Remember(start with { Pc = 0x500000 + 0x40 * i }, usesRbp: false, [], CallstackCapture.Stacks.InternId([0x500000 + 0x40 * i]));
            WalkMemo.ReleaseCurrent();
            return memo;
        });
        Assert.Same(first, second);
        WalkMemo third = OnNewThread(() => WalkMemo.For(rules));
        Assert.NotSame(second, third);
    }

    private static WalkMemo NewMemo() => new(rules: null);
}
