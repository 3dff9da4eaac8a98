using System.Runtime.CompilerServices;
using Checker.Engine.CodeCache;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// An exit record is 32 bytes (cc1plus keeps 545K of them, the largest type in memcheck's heap) with
/// its fields packed: each must read back what was set, whatever was set beside it.
/// </summary>
public class ExitStubTests
{
    [Fact]
    public void IsThirtyTwoBytes() => Assert.Equal(32, Unsafe.SizeOf<ExitStub>());

    [Fact]
    public void AFreshExitIsUnlinkedWithoutOwnerModeOrPatchSite()
    {
        var exit = new ExitStub(ExitKind.Syscall, 0x7fff_ffff_f000);
        Assert.Equal((ExitKind.Syscall, 0x7fff_ffff_f000UL), (exit.Kind, exit.TargetPc));
        Assert.Equal((ExitStub.None, ExitStub.NoFragment, ExitStub.NoFragment, false), (exit.NextIncoming, exit.OwnerNumber, exit.LinkedNumber, exit.IsLinked));
        Assert.Null(exit.TargetMode);
        Assert.Equal((0UL, 0UL, (ushort)0, 0UL), (exit.StubAddress, exit.PatchSite, exit.ContinuationBack, exit.ContinuationField));
    }

    [Fact]
    public void PackedFieldsKeepTheirNeighbours()
    {
        var exit = new ExitStub(ExitKind.UnboundSlot, 0x7fff_ffff_ffff);
        exit.ContinuationBack = 0xfffe;
        exit.StubAddress = 0x7ee0_1230;
        exit.PatchSite = 0x7001_0040;
        exit.TargetMode = 1;
        exit.NextIncoming = 0;
        exit.OwnerNumber = 7;
        exit.LinkedNumber = 9;

        Assert.Equal((ExitKind.UnboundSlot, 0x7fff_ffff_ffffUL, (int?)1), (exit.Kind, exit.TargetPc, exit.TargetMode));
        Assert.Equal((0x7ee0_1230UL, 0x7001_0040UL, (ushort)0xfffe), (exit.StubAddress, exit.PatchSite, exit.ContinuationBack));
        Assert.Equal(0x7001_0040UL - 0xfffe, exit.ContinuationField);
        Assert.Equal((0, 7, 9, true), (exit.NextIncoming, exit.OwnerNumber, exit.LinkedNumber, exit.IsLinked));

        exit.TargetMode = null;
        exit.ContinuationBack = 0;
        Assert.Equal((ExitKind.UnboundSlot, 0x7fff_ffff_ffffUL, (int?)null), (exit.Kind, exit.TargetPc, exit.TargetMode));
        Assert.Equal((0x7ee0_1230UL, 0x7001_0040UL, 0UL), (exit.StubAddress, exit.PatchSite, exit.ContinuationField));
    }

    [Fact]
    public void KernelHalfTargetsReadBackWhole()
    {
        // A jmp rel32 in guest code below 2 GB can wrap to the kernel half: the guest faults there,
        // so the exit must keep the address exactly (its flags beside it).
        var exit = new ExitStub(ExitKind.Direct, 0xffff_ffff_9000_0006) { TargetMode = 1 };
        Assert.Equal((ExitKind.Direct, 0xffff_ffff_9000_0006UL, (int?)1), (exit.Kind, exit.TargetPc, exit.TargetMode));
        Assert.Equal(0xffff_8000_0000_0000UL, new ExitStub(ExitKind.Fault, 0xffff_8000_0000_0000).TargetPc);
        Assert.Equal(0x7fff_ffff_ffffUL, new ExitStub(ExitKind.Fault, 0x7fff_ffff_ffff).TargetPc);
    }

    [Fact]
    public void StubAddressesBeyondFortyEightBitsAreRefused()
    {
        // Stubs are memcheck's own code (a host address below 2^47): beyond is a bug of the engine.
        var exit = new ExitStub(ExitKind.Direct, 0x40_1000);
        Assert.Throws<ArgumentOutOfRangeException>(() => exit.StubAddress = 1UL << 48);
    }
}
