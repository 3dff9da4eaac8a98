using Checker.MemcheckTool.Definedness;
using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>realloc's copy of definedness: whole-byte states and the exact bits of partly defined bytes, only from the copied range.</summary>
[Collection("Shadow memory")]
public class MemoryDefinednessCopyTests
{
    private const ulong From = 0x5123_4570_0000, To = 0x5123_4580_0000;

    [Fact]
    public void PartlyDefinedBytesKeepTheirBits_UndefinedRunsTheirState()
    {
        using var shadow = new ShadowMemory();
        var memory = new MemoryDefinedness(shadow, _ => true);
        memory.Write(From - 8, [0x0f]);   // outside the copied range: not copied
        byte[] source = new byte[4096];
        source[3] = 0x0f;
        source[10] = 0xff;
        Array.Fill(source, (byte)0xff, 100, 3000);   // a long undefined run, one partial byte in it
        source[2000] = 0x80;
        source[4095] = 0x01;
        memory.Write(From, source);
        memory.Write(To - 8, new byte[8 + source.Length]);

        memory.Copy(From, To, (ulong)source.Length);

        byte[] copied = new byte[source.Length];
        memory.Read(To, copied);
        Assert.Equal(source, copied);
        Assert.Equal(ShadowState.BitLevel, shadow.Get(To + 2000));
        byte[] before = new byte[8];
        memory.Read(To - 8, before);
        Assert.Equal(new byte[8], before);
    }
}
