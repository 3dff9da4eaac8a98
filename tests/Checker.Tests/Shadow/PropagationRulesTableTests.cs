using Checker.MemcheckTool.Definedness;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>
/// PropagationRules names no mnemonic by string and asks no enum reflection (NativeAOT builds an
/// enum's metadata on first use: ~0.5 ms of every start): its fixed table and its explicit setcc /
/// cmovcc lists must still cover what the names did.
/// </summary>
public class PropagationRulesTableTests
{
    [Fact]
    public void TableHasRoomForEveryMnemonic() =>
        Assert.True((int)Enum.GetValues<Mnemonic>().Max() < PropagationRules.MnemonicSlots);

    [Fact]
    public void RegistersFitAByte() =>
        Assert.True((int)Enum.GetValues<Register>().Max() < 256);   // ShadowRegisters' dirty-bit table, Liveness's indices

    [Fact]
    public void ConditionalRulesAreWhatTheMnemonicNamesSaid()
    {
        int conditional = 0;
        foreach (Code code in Enum.GetValues<Code>())
        {
            if (code.ConditionCode() == ConditionCode.None) continue;
            Mnemonic mnemonic = code.Mnemonic();
            string name = mnemonic.ToString();
            PropagationRule expected = name.StartsWith("Set", StringComparison.Ordinal) ? PropagationRule.SetCondition
                : name.StartsWith("Cmov", StringComparison.Ordinal) ? PropagationRule.MoveIfCondition
                : PropagationRule.Pessimistic;
            Assert.True(expected == PropagationRules.ConditionalRule(mnemonic), $"{code} ({mnemonic})");
            conditional++;
        }
        Assert.True(conditional > 100);
    }
}
