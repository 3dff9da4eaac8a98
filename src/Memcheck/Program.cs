using System.CommandLine;
using System.Reflection;
using System.Runtime.Versioning;
using Checker.Engine;
using Checker.Engine.Dispatch;
using Checker.Symbols.Elf;

namespace Checker.Memcheck;

/// <summary>The <c>memcheck</c> command: parse options, load the program, run it under the engine.</summary>
[SupportedOSPlatform("linux")]
public static class Program
{
    public static int Main(string[] args)
    {
        ToolOutput.Redirect();
        var (memcheckOptions, readSettings) = CommandLineOptions.Build();
        var root = new RootCommand("memcheck: finds memory errors in unmodified x86-64 Linux programs.\nUsage: memcheck [options] -- PROGRAM [ARGS...]");
        foreach (Option option in memcheckOptions) root.Options.Add(option);
        (string[] options, string[] command) = CommandLineOptions.SplitAtProgram(args);
        root.SetAction(parse =>
        {
            if (command.Length == 0)
                return Fail(ExitCodes.Usage, "no program given (usage: memcheck [options] -- PROGRAM [ARGS...])");
            return RunProgram(command, readSettings(parse));
        });

        ParseResult result = root.Parse(options);
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

    private static int RunProgram(string[] command, MemcheckSettings settings)
    {
        var (path, error, code) = ProgramResolver.Resolve(command[0]);
        if (path == null) return Fail(code, error!);
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
                ExecFn = command[0],
                Arguments = command,
                Environment = HostEnvironment.Read(),
                CollectStatistics = settings.Stats,
                CheckHeap = settings.CheckHeap,
                RedzoneSize = settings.RedzoneSize,
                DelayFreesBytes = settings.DelayFreesBytes,
                CallstackMaxFrames = settings.CallstackMaxFrames,
                InitiallyIgnoredSignals = StartupShim.IgnoredAtStart(),
                ToolDescriptors = ToolOutput.Descriptor >= 0 ? [ToolOutput.Descriptor] : [],
            });
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

        using var reports = new ReportSession(command, settings);
        if (run.Heap != null) run.Heap.Errors = reports.OnHeapError;
        if (run.AccessChecker != null) run.AccessChecker.Errors = reports.OnAccessError;

        GuestOutcome outcome;
        try
        {
            outcome = run.Run();
        }
        catch (EngineException e)
        {
            reports.Finish(ExitCodes.EngineFailure, printSummary: run.Heap != null);
            return Fail(ExitCodes.EngineFailure, $"engine failure: {e.Message}");
        }
        if (settings.Stats) StatisticsReport.Print(run);
        return GuestTermination.Finish(run, outcome, reports);
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\n', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim()));

    internal static int Fail(int exitCode, string message)
    {
        // File names come from the user or from the program's headers: never raw control characters.
        Console.Error.WriteLine($"memcheck: {TerminalText.Escape(message)}");
        return exitCode;
    }

    internal static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.1.0";
}
