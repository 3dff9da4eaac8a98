using Checker.MemcheckTool.Definedness;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>CodeFacts answers as Iced's OpCodeInfo does, for every code the 64-bit decoder can give.</summary>
public class CodeFactsTests
{
    // MVEX (Knights Corner) is decoded only with DecoderOptions.KNC, which the translator never sets.
    private static IEnumerable<Code> DecodableCodes() =>
        Enum.GetValues<Code>().Where(code => code.ToOpCode() is { IsInstruction: true, Mode64: true, Encoding: not EncodingKind.MVEX });

    [Fact]
    public void NopsAreOpCodeInfosNops()
    {
        var mismatched = DecodableCodes().Where(code => CodeFacts.IsNop(new Instruction { Code = code }) != code.ToOpCode().IsNop).ToList();
        Assert.Empty(mismatched);
        Assert.True(CodeFacts.IsNop(new Instruction { Code = Code.Nop_rm32 }));
        Assert.False(CodeFacts.IsNop(new Instruction { Code = Code.Pause }));
    }

    [Fact]
    public void MemorySizeIsOpCodeInfosForPlainAndBroadcastForms()
    {
        var mismatched = new List<string>();
        foreach (Code code in DecodableCodes())
        {
            MemorySize expected = code.ToOpCode().MemorySize;
            var plain = new Instruction { Code = code };
            var broadcast = new Instruction { Code = code, IsBroadcast = true };
            if (CodeFacts.MemorySize(plain) != expected || CodeFacts.MemorySize(broadcast) != expected) mismatched.Add(code.ToString());
        }
        Assert.Empty(mismatched);
        // A broadcast's element differs from the vector's (vpmuludq: 2 x uint32 against uint32): the vector's is the one kept.
        Assert.Equal(MemorySize.Packed512_UInt32, CodeFacts.MemorySize(new Instruction { Code = Code.EVEX_Vpmuludq_zmm_k1z_zmm_zmmm512b64, IsBroadcast = true }));
    }
}
