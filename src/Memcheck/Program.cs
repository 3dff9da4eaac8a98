using Checker.Engine.State;
using Checker.MemcheckTool;
using System.CommandLine;
using System.Reflection;
using System.Runtime.Versioning;
using Checker.Engine;
using Checker.Engine.Dispatch;
using Checker.Engine.Native;
using Checker.Engine.Syscalls;
using Checker.Symbols.Elf;

namespace Checker.Memcheck;

/// <summary>The <c>memcheck</c> command: parse options, load the program, run it under the engine.</summary>
[SupportedOSPlatform("linux")]
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == Nudge.Command) return Nudge.Run(args[1..]);
        DescriptorRange? descriptors = StartupShim.Descriptors();
        StartupShim.ConfigureContextTls();
        ToolOutput.Redirect(descriptors?.Start ?? HostProcess.DefaultToolDescriptorStart);
        // Run by the memcheck of a program that exec'd: its lines name the pid from the start.
        (TracedExec? traced, args, string? tracedError) = TracedExec.Take(args);
        if (tracedError != null) return Fail(ExitCodes.Usage, tracedError);
        LinePrefix.ExecedProgram = traced != null;
        var (memcheckOptions, readSettings) = CommandLineOptions.Build();
        var root = new RootCommand("memcheck: finds memory errors in unmodified x86-64 Linux programs.\nUsage: memcheck [options] -- PROGRAM [ARGS...]\n       memcheck nudge [--new] PID   (a running checked process reports its leaks now and goes on)\nA yes/no option alone means yes; its value follows an '=' (--stats=yes, --quiet=no), as under Valgrind.");
        foreach (Option option in memcheckOptions) root.Options.Add(option);
        (string[] options, string[] command) = CommandLineOptions.SplitAtProgram(args);
        // No response files: an option value starting with '@' is a value.
        var parsing = new ParserConfiguration { ResponseFileTokenReplacer = null };
        // ~/.memcheckrc, MEMCHECK_OPTIONS, ./.memcheckrc come first (an exec'd program's memcheck is
        // given the options in effect, so it reads none of them again). Each is checked on its own,
        // so an error names where the bad option was. Not for --version and --help, which take no
        // other option (MEMCHECK_OPTIONS set for a test suite made --version a usage error).
        if (traced == null && !options.Any(o => o is "--version" or "--help" or "-h" or "-?"))
        {
            var defaults = new List<string>();
            foreach ((string source, string[] words) in DefaultOptions.Read())
            {
                (string[] given, string[] rest) = CommandLineOptions.SplitAtProgram(words);
                if (rest.Length > 0) return Fail(ExitCodes.Usage, $"{source}: '{rest[0]}' is not an option (it holds options only)");
                if (root.Parse(given, parsing).Errors is { Count: > 0 } errors)
                    return Fail(ExitCodes.Usage, $"{source}: {OneLine(errors[0].Message)} (see memcheck --help)");
                defaults.AddRange(given);
            }
            options = [.. defaults, .. options];
        }
        root.SetAction(parse =>
        {
            if (command.Length == 0)
                return Fail(ExitCodes.Usage, "no program given (usage: memcheck [options] -- PROGRAM [ARGS...])");
            MemcheckSettings settings = readSettings(parse);
            if (settings.XmlPath == MemcheckSettings.XmlWithoutFile)
                return Fail(ExitCodes.Usage, "--xml=yes needs --xml-file=FILE (memcheck writes the XML to a file, never to stderr)");
            // Found now, not when the reports are written after the whole run.
            foreach ((string option, string? file) in settings.ReportFiles())
                if (file != null && ReportFileTarget.Problem(file) is string problem) return Fail(ExitCodes.Usage, $"{option} {file}: {problem}");
            foreach (string file in settings.SuppressionFiles)
                if (!File.Exists(file)) return Fail(ExitCodes.Usage, $"--suppressions {file}: no such file");
            // Where they are now: the program may change directory, and programs it execs get them too.
            settings = settings.WithAbsolutePaths();
            // Parsed now (and kept for the run): a file that does not parse stops memcheck before the program starts.
            if (SuppressionSet.Problem(settings) is string suppressionProblem) return Fail(ExitCodes.Usage, suppressionProblem);
            if (settings.LogFile is string log && ToolOutput.LogTo(log, append: traced != null) is string logProblem)
                return Fail(ExitCodes.Usage, logProblem);
            return RunProgram(command, settings, descriptors, traced);
        });

        ParseResult result = root.Parse(options, parsing);
        if (result.Errors.Count > 0)
            return Fail(ExitCodes.Usage, $"{OneLine(result.Errors[0].Message)} (see memcheck --help)");
        try
        {
            // Our own handler below, not System.CommandLine's (it prints a .NET stack trace).
            return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            // Never a .NET stack trace for the user: one line, and the engine-failure code.
            return Fail(ExitCodes.EngineFailure, $"internal error: {e.GetType().Name}: {e.Message}");
        }
    }

    private static int RunProgram(string[] command, MemcheckSettings settings, DescriptorRange? descriptors, TracedExec? traced)
    {
        // An exec'd program is the path its exec named (never searched on PATH), with its own argv[0] and AT_EXECFN.
        var (exec, error, code) = ProgramResolver.ResolveExec(command, literalPath: traced != null);
        if (exec == null) return Fail(code, error!);
        if (traced != null)
            exec = exec with { ExecFn = traced.ExecFn, Argv = exec.Path == command[0] ? [traced.Argv0, .. command[1..]] : exec.Argv };
        // memcheck's own executable, held from the start: what an exec the program makes runs to be followed.
        int memcheckExecutable = settings.TraceChildren ? OpenOwnExecutable(descriptors) : -1;
        string path = exec.Path;
        ElfImage image;
        try
        {
            image = ElfImage.Open(path);
        }
        catch (ElfFormatException e)
        {
            return Fail(ExitCodes.CannotExecute, $"{command[0]}: {e.Message}");
        }
        catch (FileNotFoundException e)
        {
            return Fail(ExitCodes.NotFound, $"{command[0]}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Messages of the file reader never repeat the path: it is named here, once.
            return Fail(ExitCodes.CannotExecute, $"{command[0]}: {e.Message}");
        }

        GuestRun run;
        try
        {
            run = GuestRun.Prepare(image, new EngineOptions
            {
                ExecutablePath = path,
                ExecFn = exec.ExecFn,
                Arguments = exec.Argv,
                Environment = HostEnvironment.Read(),
                CollectStatistics = settings.Stats,
                TranslationCacheDirectory = settings.TranslationCacheDirectory,
                TraceEvents = settings.TraceEvents ? line => Console.Error.WriteLine(LinePrefix.Line(line)) : null,
                InitiallyIgnoredSignals = StartupShim.IgnoredAtStart(),
                // In a program exec'd under memcheck, the engine's kick signal was blocked by the memcheck that exec'd it, not by the program.
                InitialSignalMask = traced != null ? StartupShim.SignalMaskAtStart() & ~(1UL << (ThreadStopper.KickSignal - 1)) : StartupShim.SignalMaskAtStart(),
                ToolDescriptors = new[] { ToolOutput.Descriptor, memcheckExecutable }.Where(fd => fd >= 0 && descriptors?.IsTools((ulong)fd) != true).ToArray(),
                ToolDescriptorRange = descriptors,
            }, settings.CheckHeap ? new MemoryCheckTool(new MemcheckOptions
            {
                RedzoneSize = settings.RedzoneSize,
                DelayFreesBytes = settings.DelayFreesBytes,
                DelayFrees = settings.DelayFrees,
                CallstackMaxFrames = settings.CallstackMaxFrames,
                CheckUninitialized = settings.CheckUninitialized,
                TrackOrigins = settings.TrackOrigins,
            }) : null);
        }
        catch (ElfFormatException e)
        {
            // As the kernel: a missing interpreter is ENOENT (the shell's 127), the rest ENOEXEC/EACCES/ELIBBAD (126).
            return Fail(e.FileMissing ? ExitCodes.NotFound : ExitCodes.CannotExecute, $"{command[0]}: {e.Message}");
        }
        catch (EngineException e)
        {
            return Fail(ExitCodes.EngineFailure, $"cannot load {command[0]}: {e.Message}");
        }

        LinePrefix.Follow(run.Process);
        run.Process.ForkedChild += () => ToolOutput.Forked(run.Process);
        using var reports = new ReportSession(command, settings, run.Process, traced);
        if (settings.Verbose)
        {
            Console.Error.WriteLine(LinePrefix.Line($"Command: {string.Join(' ', command)}"));
            Console.Error.WriteLine(LinePrefix.Line($"Options: {string.Join(' ', settings.OptionArguments())}"));
            foreach ((string file, int count) in SuppressionSet.For(settings).Files)
                Console.Error.WriteLine(LinePrefix.Line($"Reading suppressions file: {file} ({count} suppression(s))"));
        }
        if (settings.TraceChildren) run.Process.FollowExec = new ChildTracing(settings, memcheckExecutable, reports.NextJsonIndex).Decide;
        if (run.Tool is MemoryCheckTool checks)
        {
            checks.Heap.Errors = reports.OnHeapError;
            checks.AccessChecker.Errors = reports.OnAccessError;
            checks.Overlaps.Errors = reports.OnOverlap;
            if (checks.Definedness is { } definedness)
            {
                definedness.Errors = reports.OnUninitialized;
                definedness.ParameterErrors = reports.OnParameterAddress;
            }
        }

        var signals = new TerminationSignals(run, reports, settings);
        // Whichever guest thread ends the process finishes the run on its own host thread.
        run.Finisher = ended => GuestTermination.Finish(run, ended, reports, settings);
        SignalListener.Start(run, signals, run.Tool is MemoryCheckTool nudged ? Nudge.Handler(nudged, reports) : null);
        // Checking only: under --tool none a fault the program handles is its own business; so is a
        // write to read-only memory, a protection-key fault or a SIGBUS it handles (CrashReport.ReportedWhenHandled).
        if (run.Tool is MemoryCheckTool handled) handled.HandledFaults = fault =>
        {
            if (CrashReport.ReportedWhenHandled(fault, run.Process.Mappings))
                CrashReport.ReportAccess(fault, run.Process.Mappings, (run.Program.StackLimit, run.Program.StackTop), reports, settings.CallstackMaxFrames);
        };
        // Valgrind's client requests report here; then every error sink (set above) minds VALGRIND_DISABLE_ERROR_REPORTING.
        if (run.Tool is MemoryCheckTool requests) requests.ConnectClientRequests(r =>
        {
            r.Errors = reports.OnClientCheck;
            r.Messages = reports.OnClientMessage;
            r.LeakChecks = reports.OnRequestedLeakCheck;
            r.ErrorCount = () => reports.ErrorCount;
        });
        GuestOutcome outcome = run.Run();
        if (settings.Stats) StatisticsReport.Print(run);
        return GuestTermination.Finish(run, outcome, reports, settings);
    }

    /// <summary>An O_PATH descriptor of memcheck's executable, one of memcheck's own (-1 if it cannot be opened: children then run natively).</summary>
    private static int OpenOwnExecutable(DescriptorRange? descriptors)
    {
        const int OPath = 0x200000, OCloexec = 0x80000;
        return HostProcess.OpenForTool("/proc/self/exe", OPath | OCloexec, descriptors?.Start ?? HostProcess.DefaultToolDescriptorStart);
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\n', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim()));

    internal static int Fail(int exitCode, string message)
    {
        // File names come from the user or from the program's headers: never raw control characters.
        Console.Error.WriteLine(LinePrefix.Line(TerminalText.Escape(message)));
        return exitCode;
    }

    internal static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.1.0";
}
