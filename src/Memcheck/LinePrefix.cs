using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.Syscalls;

namespace Checker.Memcheck;

/// <summary>
/// What each of memcheck's lines starts with: <c>memcheck: </c>, or <c>memcheck[PID]: </c> in a
/// process that has forked (parent and child alike, from the fork on) or is about to exec, so the
/// reports of related processes sharing one stderr can be told apart (Valgrind prefixes every line
/// with <c>==PID==</c>; a process that never forks keeps the short prefix).
/// </summary>
[SupportedOSPlatform("linux")]
public static class LinePrefix
{
    private static GuestProcess? _process;

    /// <summary>
    /// Set in a memcheck that runs an exec'd program (<see cref="TracedExec"/>): its process
    /// started as another program, whose lines named the pid, and so do all of its own.
    /// </summary>
    public static bool ExecedProgram { get; set; }

    /// <summary>Takes the fork/exec state from <paramref name="process"/> from now on.</summary>
    public static void Follow(GuestProcess process) => _process = process;

    /// <summary>The prefix for a line written now (the pid is the kernel's, so a forked child gets its own).</summary>
    public static string Current => ExecedProgram || _process is { ForkedOrExeced: true } ? $"memcheck[{HostProcess.Id}]: " : "memcheck: ";

    /// <summary><paramref name="text"/> as one of memcheck's lines (no newline).</summary>
    public static string Line(string text) => Current + text;
}
