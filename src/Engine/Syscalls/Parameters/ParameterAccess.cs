namespace Checker.Engine.Syscalls.Parameters;

/// <summary>How a table row's parameter is used: the two <see cref="KernelAccess"/> cases and in-out structures.</summary>
public enum ParameterAccess
{
    Reads,
    Writes,

    /// <summary>Read before the call and written back by it (struct flock for F_GETLK, select's fd_sets, a sendfile offset).</summary>
    ReadsThenWrites,

    /// <summary>
    /// Given new contents by a successful call without the program's pointer being used to reach
    /// them (madvise(MADV_DONTNEED) gives private pages zeros): nothing checked before, defined after.
    /// </summary>
    Replaces,
}
