using Checker.Engine.Translation;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Engine;

public class RegisterFactsTests
{
    [Fact]
    public void EveryRegisterHasIcedsFullRegisterSizeAndNumber()
    {
        foreach (Register register in Enum.GetValues<Register>())
        {
            Assert.Equal(register.GetFullRegister(), register.Full());
            Assert.Equal(register.GetSize(), register.Bytes());
            Assert.Equal(register.GetNumber(), register.Number());
        }
        Assert.Equal(Register.RAX, Register.AL.Full());
        Assert.Equal(4, Register.R9D.Bytes());
        Assert.Equal(5, Register.XMM5.Number());
    }
}
