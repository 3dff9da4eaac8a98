using Checker.Engine.Loading;
using Xunit;

namespace Checker.Tests.Loading;

/// <summary>Reading and decoding the host's aux vector.</summary>
public class HostAuxvTests
{
    [Fact]
    public void Read_HasThePageSizeAndEntryAndNoTerminator()
    {
        IReadOnlyList<AuxEntry> aux = HostAuxv.Read();

        Assert.Contains(new AuxEntry(AuxType.AT_PAGESZ, (ulong)Environment.SystemPageSize), aux);
        Assert.Contains(aux, e => e.Type == AuxType.AT_ENTRY && e.Value != 0);
        Assert.Contains(aux, e => e.Type == AuxType.AT_RANDOM && e.Value != 0);
        Assert.Contains(aux, e => e.Type == AuxType.AT_HWCAP);
        Assert.DoesNotContain(aux, e => e.Type == AuxType.AT_NULL);
    }

    [Fact]
    public void Parse_StopsAtAtNullAndIgnoresATrailingPartialPair()
    {
        byte[] raw = new byte[16 * 3 + 8 + 16];
        BitConverter.TryWriteBytes(raw.AsSpan(0), AuxType.AT_PAGESZ);
        BitConverter.TryWriteBytes(raw.AsSpan(8), 4096UL);
        BitConverter.TryWriteBytes(raw.AsSpan(16), AuxType.AT_UID);
        BitConverter.TryWriteBytes(raw.AsSpan(24), 1000UL);
        // Pair 2 is AT_NULL; what follows must not be read.
        BitConverter.TryWriteBytes(raw.AsSpan(48), AuxType.AT_GID);

        Assert.Equal([new AuxEntry(AuxType.AT_PAGESZ, 4096), new AuxEntry(AuxType.AT_UID, 1000)], HostAuxv.Parse(raw));
        Assert.Equal([new AuxEntry(AuxType.AT_PAGESZ, 4096)], HostAuxv.Parse(raw.AsSpan(0, 24)));
    }
}
