using System.Runtime.CompilerServices;
using Checker.Symbols.Unwinding;
using Xunit;

namespace Checker.Tests.Unwinding;

/// <summary>
/// The frame-pointer and scan fallbacks on synthetic memory: a "module" whose path does not exist
/// (so it has no CFI) holds code bytes, and a fake stack holds frames.
/// </summary>
public class FallbackUnwindTests
{
    private const ulong CodeStart = 0x400000;
    private const int CodeSize = 0x1000;
    private const ulong StackStart = 0x7ff000;
    private const int StackSize = 0x1000;
    private const ulong StackEnd = StackStart + StackSize;

    private readonly FakeMemory _memory = new();
    private readonly byte[] _code;

    public FallbackUnwindTests()
    {
        _code = _memory.AddZeroed(CodeStart, CodeSize);
        _memory.AddZeroed(StackStart, StackSize);
    }

    private CallstackWalker Walker(int maxScanWords = 512) => new(_memory,
        pc => pc >= CodeStart && pc < CodeStart + CodeSize ? ("/nonexistent/no-cfi-module", 0UL) : null,
        new CallstackWalkerOptions { StackEnd = StackEnd, MaxScanWords = maxScanWords });

    /// <summary>Puts <paramref name="call"/> so that it ends at <paramref name="returnAddress"/>.</summary>
    private void CallBefore(ulong returnAddress, params byte[] call) =>
        call.CopyTo(_code, (int)(returnAddress - CodeStart) - call.Length);

    [Fact]
    public void FramePointerChainIsFollowed()
    {
        // Three frames: rbp chain 0x7ff100 -> 0x7ff200 -> 0x7ff300 -> 0 (outermost).
        _memory.Write(0x7ff100, 0x7ff200);
        _memory.Write(0x7ff108, 0x400110);
        _memory.Write(0x7ff200, 0x7ff300);
        _memory.Write(0x7ff208, 0x400220);
        _memory.Write(0x7ff300, 0);
        _memory.Write(0x7ff308, 0x400330);

        using CallstackWalker walker = Walker(maxScanWords: 0);
        IReadOnlyList<UnwoundFrame> frames = walker.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0x7ff100));

        Assert.Equal([0x400010UL, 0x400110, 0x400220, 0x400330], frames.Select(f => f.Pc));
        Assert.Equal([UnwindMethod.Registers, UnwindMethod.FramePointer, UnwindMethod.FramePointer, UnwindMethod.FramePointer], frames.Select(f => f.Method));
        Assert.Equal([0x7ff0c0UL, 0x7ff110, 0x7ff210, 0x7ff310], frames.Select(f => f.Sp));
        Assert.False(frames[0].IsReturnAddress);
        Assert.Equal(0x400010UL, frames[0].LookupPc);
        Assert.True(frames[1].IsReturnAddress);
        Assert.Equal(0x40010fUL, frames[1].LookupPc);
    }

    [Fact]
    public void FrameLimitIsHonoured()
    {
        _memory.Write(0x7ff100, 0x7ff200);
        _memory.Write(0x7ff108, 0x400110);
        _memory.Write(0x7ff200, 0);
        _memory.Write(0x7ff208, 0x400220);

        using CallstackWalker walker = Walker(maxScanWords: 0);
        Assert.Equal(2, walker.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0x7ff100), maxFrames: 2).Count);
        Assert.Single(walker.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0x7ff100), maxFrames: 1));
    }

    [Fact]
    public void WalkEndsAtTheFrameTheCallerMarksLast()
    {
        _memory.Write(0x7ff100, 0x7ff200);
        _memory.Write(0x7ff108, 0x400110);
        _memory.Write(0x7ff200, 0x7ff300);
        _memory.Write(0x7ff208, 0x400220);
        _memory.Write(0x7ff300, 0);
        _memory.Write(0x7ff308, 0x400330);

        using CallstackWalker walker = Walker(maxScanWords: 0);
        var seen = new List<ulong>();
        var frames = walker.WalkWithRegisters(new UnwindRegisters(0x400010, 0x7ff0c0, 0x7ff100), isLast: f =>
        {
            seen.Add(f.Pc);
            return f.Pc == 0x400110;
        });
        // The marked frame is the last one, and nothing beyond it was unwound or offered.
        Assert.Equal([0x400010UL, 0x400110], frames.Select(f => f.Frame.Pc));
        Assert.Equal([0x400010UL, 0x400110], seen);
        Assert.Equal(0x7ff110UL, frames[^1].Registers.Rsp);
    }

    [Fact]
    public void DescendingFramePointerFallsBackToScan()
    {
        // rbp points below sp (garbage): the chain is not followed; the scan finds a return address after E8 rel32.
        CallBefore(0x400500, 0xE8, 1, 2, 3, 4);
        _memory.Write(0x7ff0e0, 0x400500);

        using CallstackWalker walker = Walker();
        IReadOnlyList<UnwoundFrame> frames = walker.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0x7ff000));

        Assert.Equal(2, frames.Count);
        Assert.Equal(0x400500UL, frames[1].Pc);
        Assert.Equal(UnwindMethod.Scan, frames[1].Method);
        Assert.Equal(0x7ff0e8UL, frames[1].Sp);
    }

    [Fact]
    public void SavedFramePointerBelowCurrentIsNotFollowed()
    {
        _memory.Write(0x7ff100, 0x7ff080); // the caller's rbp is below its sp: the chain ends there
        _memory.Write(0x7ff108, 0x400110);
        _memory.Write(0x7ff080, 0x7ff300);
        _memory.Write(0x7ff088, 0x400220);

        using CallstackWalker walker = Walker(maxScanWords: 0);
        IReadOnlyList<UnwoundFrame> frames = walker.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0x7ff100));
        Assert.Equal([0x400010UL, 0x400110], frames.Select(f => f.Pc));
    }

    [Theory]
    [InlineData(new byte[] { 0xE8, 0x10, 0x20, 0x30, 0x40 })]           // call rel32
    [InlineData(new byte[] { 0xFF, 0xD0 })]                             // call rax
    [InlineData(new byte[] { 0x41, 0xFF, 0xD3 })]                       // call r11
    [InlineData(new byte[] { 0xFF, 0x15, 0x11, 0x22, 0x33, 0x44 })]     // call [rip+disp32]
    [InlineData(new byte[] { 0xFF, 0x50, 0x18 })]                       // call [rax+0x18]
    [InlineData(new byte[] { 0xFF, 0x90, 0x00, 0x01, 0x00, 0x00 })]     // call [rax+0x100]
    [InlineData(new byte[] { 0xFF, 0x14, 0x24 })]                       // call [rsp]
    [InlineData(new byte[] { 0xFF, 0x54, 0xC5, 0x08 })]                 // call [rbp+rax*8+8]
    [InlineData(new byte[] { 0xFF, 0x14, 0xC5, 0x00, 0x10, 0x40, 0x00 })] // call [rax*8+0x401000]
    [InlineData(new byte[] { 0xFF, 0x12 })]                             // call [rdx]
    public void ScanAcceptsCallEncodings(byte[] call)
    {
        CallBefore(0x400600, call);
        _memory.Write(0x7ff0d0, 0x400600);

        using CallstackWalker walker = Walker();
        IReadOnlyList<UnwoundFrame> frames = walker.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0));

        Assert.Equal(2, frames.Count);
        Assert.Equal((0x400600UL, UnwindMethod.Scan), (frames[1].Pc, frames[1].Method));
    }

    [Fact]
    public void ScanSkipsCodePointersNotAfterACall()
    {
        // 0x400700 follows "jmp rax" (FF /4) and 0x400800 follows nothing: skipped; 0x400900 follows a call.
        CallBefore(0x400700, 0xFF, 0xE0);
        CallBefore(0x400900, 0xE8, 0, 0, 0, 0);
        _memory.Write(0x7ff0c8, 0x12345);    // not in a module
        _memory.Write(0x7ff0d0, 0x400700);
        _memory.Write(0x7ff0d8, 0x400800);
        _memory.Write(0x7ff0e0, 0x400900);

        using CallstackWalker walker = Walker();
        IReadOnlyList<UnwoundFrame> frames = walker.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0));

        Assert.Equal([0x400010UL, 0x400900], frames.Select(f => f.Pc));
    }

    [Fact]
    public void ScanIsBounded()
    {
        CallBefore(0x400500, 0xE8, 1, 2, 3, 4);
        _memory.Write(0x7ff0c0 + 8 * 20, 0x400500);

        using (CallstackWalker near = Walker(maxScanWords: 21))
            Assert.Equal(2, near.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0)).Count);
        using (CallstackWalker far = Walker(maxScanWords: 20))
            Assert.Single(far.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0)));
    }

    [Fact]
    public void InnermostFrameAtPushRbpUsesReturnAddressAtSp()
    {
        // The pc is at "push rbp": rbp is still the caller's, the return address is at rsp.
        _code[0x10] = 0x55;
        _memory.Write(0x7ff0c0, 0x400440);
        _memory.Write(0x7ff200, 0);
        _memory.Write(0x7ff208, 0x400550);

        using CallstackWalker walker = Walker(maxScanWords: 0);
        IReadOnlyList<UnwoundFrame> frames = walker.Walk(new UnwindRegisters(0x400010, 0x7ff0c0, 0x7ff200));

        Assert.Equal([0x400010UL, 0x400440, 0x400550], frames.Select(f => f.Pc));
        Assert.All(frames.Skip(1), f => Assert.Equal(UnwindMethod.FramePointer, f.Method));
    }

    [Fact]
    public void UnreadableStackEndsTheWalk()
    {
        using CallstackWalker walker = Walker();
        IReadOnlyList<UnwoundFrame> frames = walker.Walk(new UnwindRegisters(0x400010, 0x100000, 0x100040));
        Assert.Single(frames);
        Assert.Equal(UnwindMethod.Registers, frames[0].Method);
    }

    [Fact]
    public unsafe void ProcessMemoryReaderReadsOwnMemoryAndRejectsBadPointers()
    {
        ulong local = 0x1122334455667788;
        ulong* p = &local;
        Assert.True(ProcessMemoryReader.Current.TryReadUInt64((ulong)p, out ulong value));
        Assert.Equal(0x1122334455667788UL, value);

        Assert.False(ProcessMemoryReader.Current.TryReadUInt64(0, out _));
        Assert.False(ProcessMemoryReader.Current.TryReadUInt64(8, out _));
        Assert.False(ProcessMemoryReader.Current.TryReadUInt64(0xffff_ffff_ffff_fff8, out _));
        Assert.False(ProcessMemoryReader.Current.TryReadUInt64(0xdead_0000_0000, out _));
    }
}
