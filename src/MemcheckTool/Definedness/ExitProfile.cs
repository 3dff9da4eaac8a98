using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// A developer's measurement beside <see cref="Instrumentation.SlowPathProfile"/> (on with
/// MEMCHECK_SLOW_PATH_PROFILE=1): which instructions the propagating mode hands to C# and which
/// reads switch modes, counted per instruction form and per pc, printed to stderr at the end of the
/// process. It says which rules are worth doing inline.
/// </summary>
internal static class ExitProfile
{
    public static readonly bool Enabled = Instrumentation.SlowPathProfile.Enabled;

    private static readonly Dictionary<string, long> _byForm = [];
    private static readonly Dictionary<ulong, (long Hits, string Text)> _byPc = [];
    private static readonly Dictionary<ulong, long> _switchesByPc = [];

    /// <summary>A propagation exit at <paramref name="ins"/> (under the cache lock, as tool exits are).</summary>
    public static void Propagated(in Instruction ins, bool undefinedFlagsIn)
    {
        string form = FormOf(ins) + (undefinedFlagsIn ? " (flags in)" : "");
        _byForm[form] = _byForm.GetValueOrDefault(form) + 1;
        (long hits, string? text) = _byPc.GetValueOrDefault(ins.IP);
        _byPc[ins.IP] = (hits + 1, text ?? ins.ToString());
    }

    /// <summary>
    /// The pessimistic rule (no rule of the instruction's own) met an undefined input: every output
    /// became undefined. The forms listed first are where a rule of their own would be most precise.
    /// </summary>
    public static void Pessimistic(in Instruction ins)
    {
        string form = "pessimistic: " + FormOf(ins);
        _byForm[form] = _byForm.GetValueOrDefault(form) + 1;
    }

    /// <summary>A mode-0 read of undefined memory propagated at once (no switch).</summary>
    public static void PropagatedAtSwitch(in Instruction ins)
    {
        string form = "at a switch: " + FormOf(ins);
        _byForm[form] = _byForm.GetValueOrDefault(form) + 1;
    }

    /// <summary>A mode-0 read of undefined memory at <paramref name="pc"/> that switched modes.</summary>
    public static void Switched(ulong pc) => _switchesByPc[pc] = _switchesByPc.GetValueOrDefault(pc) + 1;

    /// <summary>The mnemonic and operand kinds: "and r32,r/m32".</summary>
    private static string FormOf(in Instruction ins)
    {
        var kinds = new string[ins.OpCount];
        for (int i = 0; i < ins.OpCount; i++)
        {
            kinds[i] = ins.GetOpKind(i) switch
            {
                OpKind.Register => ins.GetOpRegister(i).IsGPR() ? $"r{ins.GetOpRegister(i).Bytes() * 8}" : ins.GetOpRegister(i).IsXMM() ? "xmm" : ins.GetOpRegister(i).IsYMM() ? "ymm" : ins.GetOpRegister(i).ToString().ToLowerInvariant(),
                OpKind.Memory => $"m{ins.MemorySize.GetSize() * 8}",
                _ => "imm",
            };
        }
        return $"{ins.Mnemonic.ToString().ToLowerInvariant()} {string.Join(",", kinds)}";
    }

    public static void Print(Func<ulong, string> describePc)
    {
        if (!Enabled) return;
        var err = Console.Error;
        err.WriteLine($"exit profile: {_byForm.Where(p => !p.Key.StartsWith("at a switch", StringComparison.Ordinal) && !p.Key.StartsWith("pessimistic", StringComparison.Ordinal)).Sum(p => p.Value)} propagation exits, {_switchesByPc.Values.Sum()} mode switches");
        foreach ((string form, long hits) in _byForm.Where(p => !p.Key.StartsWith("pessimistic", StringComparison.Ordinal)).OrderByDescending(p => p.Value).Take(40))
            err.WriteLine($"exit profile: {hits,10} form {form}");
        foreach ((string form, long hits) in _byForm.Where(p => p.Key.StartsWith("pessimistic", StringComparison.Ordinal)).OrderByDescending(p => p.Value).Take(20))
            err.WriteLine($"exit profile: {hits,10} {form}");
        foreach ((ulong pc, (long hits, string text)) in _byPc.OrderByDescending(p => p.Value.Hits).Take(30))
            err.WriteLine($"exit profile: {hits,10} at {describePc(pc)} {text}");
        foreach ((ulong pc, long hits) in _switchesByPc.OrderByDescending(p => p.Value).Take(30))
            err.WriteLine($"exit profile: {hits,10} switch at {describePc(pc)}");
    }
}
