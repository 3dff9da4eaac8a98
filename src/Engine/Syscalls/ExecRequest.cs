namespace Checker.Engine.Syscalls;

/// <summary>
/// An execve/execveat the kernel should take, as the report layer sees it to decide whether memcheck
/// follows it (<see cref="GuestProcess.FollowExec"/>).
/// </summary>
/// <param name="Filename">The program's path as the kernel names it (its bprm filename, which becomes
/// AT_EXECFN and a script's path argument): the path given, or /dev/fd/N/PATH (/dev/fd/N with
/// AT_EMPTY_PATH) for execveat relative to a descriptor.</param>
/// <param name="LoadPath">Where the new process can open the program: <paramref name="Filename"/>, or,
/// through a descriptor that closes on exec, the path of the file it names now; null when that file
/// has no path (deleted, a memfd).</param>
/// <param name="ThroughClosedDescriptor">Named through a descriptor that closes on exec: the kernel then
/// runs an ELF file but refuses a <c>#!</c> script (ENOENT: the interpreter could not open it).</param>
/// <param name="Argv">The argument vector as the kernel would copy it; null when it cannot be followed
/// (<paramref name="Problem"/> says why).</param>
/// <param name="Problem">Why the exec cannot be followed (an argument or the environment is not UTF-8,
/// argv is empty or unreadable); null when it can.</param>
public sealed record ExecRequest(string Filename, string? LoadPath, bool ThroughClosedDescriptor, IReadOnlyList<string>? Argv, string? Problem);

/// <summary>
/// memcheck runs an exec'd program itself: the exec becomes execveat(<paramref name="Descriptor"/>, "",
/// <paramref name="Arguments"/>(), the guest's envp, AT_EMPTY_PATH) with the guest's signal mask,
/// dispositions and RLIMIT_NOFILE. <paramref name="Arguments"/> is asked after the exec'ing process's
/// report was written; <paramref name="Failed"/> is told the errno if the kernel refuses, and the
/// program is then exec'd natively.
/// </summary>
public sealed record FollowedExec(int Descriptor, Func<IReadOnlyList<string>> Arguments, Action<int> Failed);
