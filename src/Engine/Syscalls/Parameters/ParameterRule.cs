namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// One memory parameter of a system call: interprets the argument registers (and the guest
/// memory they point to) into ranges before the call, and into the ranges the kernel wrote after it.
/// </summary>
internal abstract class ParameterRule
{
    /// <summary>Every range the kernel will read or write, before the call.</summary>
    public abstract void Before(in SyscallCall call);

    /// <summary>
    /// The ranges the kernel wrote. Called with any result: rules write nothing on failure
    /// (result &lt; 0) unless the kernel writes on that failure (nanosleep's rem on EINTR).
    /// </summary>
    public virtual void After(in SyscallCall call)
    {
    }

    /// <summary>One line for docs/syscalls.md, given the row's argument names.</summary>
    public abstract string Describe(IReadOnlyList<string> arguments);

    protected static string Verb(ParameterAccess access) => access switch
    {
        ParameterAccess.Reads => "reads",
        ParameterAccess.Writes => "writes",
        ParameterAccess.Replaces => "replaces",
        _ => "reads and writes",
    };
}
