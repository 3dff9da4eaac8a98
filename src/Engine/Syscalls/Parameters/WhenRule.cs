namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// Rules that apply only for some values of one argument: fcntl's struct flock for F_GETLK,
/// futex's word for the waiting operations, prctl's name for PR_SET_NAME.
/// </summary>
internal sealed class WhenRule(int argument, Func<ulong, bool> applies, string condition, params ParameterRule[] rules) : ParameterRule
{
    public override void Before(in SyscallCall call)
    {
        if (!applies(call.Arg(argument))) return;
        foreach (var rule in rules) rule.Before(call);
    }

    public override void After(in SyscallCall call)
    {
        if (!applies(call.Arg(argument))) return;
        foreach (var rule in rules) rule.After(call);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"if {condition}: " + string.Join(", ", rules.Select(r => r.Describe(arguments)));
}
