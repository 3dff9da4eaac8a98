using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>Instructions that set rsp explicitly: where a held scratch run ends, and what stack tracking takes over.</summary>
public static class StackPointerWrites
{
    private static readonly InstructionInfoFactory Info = new();

    /// <summary>True when <paramref name="ins"/> sets rsp other than by the implicit ±8 of push/pop/call/ret.</summary>
    public static bool IsExplicit(in Instruction ins)
    {
        if (ins.Mnemonic is Mnemonic.Leave or Mnemonic.Enter) return true;
        if (ins.StackPointerIncrement != 0) return false;
        foreach (UsedRegister used in Info.GetInfo(ins).GetUsedRegisters())
        {
            if (used.Register is Register.RSP or Register.ESP or Register.SP &&
                used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite)
                return true;
        }
        return false;
    }
}
