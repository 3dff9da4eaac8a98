using System.Runtime.InteropServices;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// Direct exits' stubs live apart from the fragments (ExitStubArea): exit id's stub is at
/// start + 17 * id, stores the id and jumps to the exit routine, and the area's top carving leaves
/// the code below where it was; an id past the capacity gets no place (its stub stays in the fragment).
/// </summary>
public unsafe class ExitStubAreaTests
{
    private const ulong Size = 8 << 20;

    [Fact]
    public void AStubAtItsIdsPlace_StoresTheIdAndJumpsToTheExitRoutine()
    {
        var region = new CodeRegion(0x2f10_0000_0000, Size);
        try
        {
            ulong exitRoutine = region.Allocate(64, 16);
            var area = new ExitStubArea(region, exitRoutine, capacity: 1000);
            Assert.True(area.Start >= region.Start + region.Used && area.End <= region.End);
            Assert.True(region.CodeLimit <= area.Start);

            foreach (int id in new[] { 0, 1, 517, 999 })
            {
                Assert.True(area.TryPlace(id, out ulong stub));
                Assert.Equal(area.Start + (ulong)id * ExitStubArea.StubSize, stub);
                var decoder = Decoder.Create(64, new ReadOnlySpan<byte>((void*)stub, ExitStubArea.StubSize).ToArray(), stub);
                Instruction store = decoder.Decode(), jump = decoder.Decode();
                Assert.Equal(Code.Mov_rm32_imm32, store.Code);
                Assert.Equal((ulong)(long)ContextOffsets.ExitId, store.MemoryDisplacement64 - (ulong)(long)ContextTls.Offset);
                Assert.Equal((uint)id, store.Immediate32);
                Assert.Equal(Code.Jmp_rel32_64, jump.Code);
                Assert.Equal(exitRoutine, jump.NearBranchTarget);
                Assert.Equal(stub + ExitStubArea.StubSize, jump.NextIP);
            }
            Assert.False(area.TryPlace(1000, out _));
        }
        finally
        {
            Munmap((nint)region.Start, (nuint)Size);
        }
    }

    [DllImport("libc", EntryPoint = "munmap")]
    private static extern int Munmap(nint address, nuint length);
}
