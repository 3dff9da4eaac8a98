using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.Syscalls;

namespace Checker.Memcheck;

/// <summary>
/// --trace-children: decides, for each exec the program makes that should succeed, whether memcheck
/// runs the new program (by exec'ing itself: <see cref="TracedExec"/>) or the kernel runs it
/// natively. Native, silently: --trace-children=no, a --trace-children-skip match, an exec the
/// kernel would refuse or hand to binfmt_misc (<see cref="ExecProbe"/>), memcheck itself. Native
/// with one line saying why: anything memcheck cannot follow faithfully (set-user-ID files, file
/// capabilities, arguments that are not UTF-8, ...).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ChildTracing(MemcheckSettings settings, int memcheckDescriptor, Func<int> nextJsonIndex)
{
    public FollowedExec? Decide(ExecRequest request)
    {
        if (!settings.TraceChildren || memcheckDescriptor < 0) return null;
        if (SkipPatterns.AnyMatches(settings.TraceChildrenSkip, request.Filename)) return null;
        if (request.Problem != null) return Native(request, request.Problem);
        if (request.LoadPath is not string path || request.Argv is not { } argv)
            return Native(request, "it is named through a descriptor that closes on exec, and its file has no path");
        var (verdict, reason, elf) = ExecProbe.Check(path, argv, scriptAllowed: !request.ThroughClosedDescriptor);
        if (verdict == ExecProbe.Verdict.Kernel) return null;
        if (verdict == ExecProbe.Verdict.Native) return Native(request, reason!);
        // memcheck itself (run by a script, say) checks its own program.
        if (HostFiles.Identity(elf!) is { } file && file == HostFiles.Identity(memcheckDescriptor)) return null;
        return new FollowedExec(memcheckDescriptor, () => Arguments(request, path, argv),
            errno => Note($"cannot run {request.Filename} under memcheck ({Marshal.GetPInvokeErrorMessage(errno)}): it runs natively, unchecked"));
    }

    /// <summary>memcheck's command line for the program: its own options again, the program as the exec named it.</summary>
    private IReadOnlyList<string> Arguments(ExecRequest request, string path, IReadOnlyList<string> argv) =>
    [
        "memcheck",
        .. new TracedExec(nextJsonIndex(), argv[0], request.Filename).Arguments(),
        .. settings.OptionArguments(),
        "--",
        path,
        .. argv.Skip(1),
    ];

    private static FollowedExec? Native(ExecRequest request, string reason)
    {
        Note($"{request.Filename} runs natively, unchecked: {reason}");
        return null;
    }

    private static void Note(string text) => Console.Error.WriteLine(LinePrefix.Line(TerminalText.Escape(text)));
}
