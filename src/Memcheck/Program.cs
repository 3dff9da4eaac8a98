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
        var (tool, stats) = CommandLineOptions.Build();
        var root = new RootCommand("memcheck: finds memory errors in unmodified x86-64 Linux programs.\nUsage: memcheck [options] -- PROGRAM [ARGS...]")
        {
            tool, stats,
        };
        (string[] options, string[] command) = CommandLineOptions.SplitAtProgram(args);
        root.SetAction(parse =>
        {
            if (command.Length == 0)
                return Fail(ExitCodes.Usage, "no program given (usage: memcheck [options] -- PROGRAM [ARGS...])");
            return RunProgram(command, parse.GetValue(stats), parse.GetValue(tool) == "memcheck");
        });

        ParseResult result = root.Parse(options);
        if (result.Errors.Count > 0)
            return Fail(ExitCodes.Usage, $"{OneLine(result.Errors[0].Message)} (see memcheck --help)");
        try
        {
            return result.Invoke();
        }
        catch (Exception e)
        {
            // Never a .NET stack trace for the user: one line, and the engine-failure code.
            return Fail(ExitCodes.EngineFailure, $"internal error: {e.GetType().Name}: {e.Message}");
        }
    }

    private static int RunProgram(string[] command, bool printStats, bool checkHeap)
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
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
                CollectStatistics = printStats,
                CheckHeap = checkHeap,
                InitiallyIgnoredSignals = StartupShim.IgnoredAtStart(),
                ToolDescriptors = ToolOutput.Descriptor >= 0 ? [ToolOutput.Descriptor] : [],
            });
        }
        catch (ElfFormatException e)
        {
            return Fail(ExitCodes.CannotExecute, $"{command[0]}: {e.Message}");
        }
        catch (EngineException e)
        {
            return Fail(ExitCodes.EngineFailure, $"cannot load {command[0]}: {e.Message}");
        }

        using var symbolizer = new FrameSymbolizer();
        HeapErrorPrinter? heapErrors = null;
        if (run.Heap != null)
        {
            heapErrors = new HeapErrorPrinter(symbolizer, Console.Error);
            run.Heap.Errors = heapErrors.Report;
        }

        GuestOutcome outcome;
        try
        {
            outcome = run.Run();
        }
        catch (EngineException e)
        {
            return Fail(ExitCodes.EngineFailure, $"engine failure: {e.Message}");
        }
        heapErrors?.PrintSummary();
        if (printStats) StatisticsReport.Print(run);
        return GuestTermination.Finish(run, outcome);
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\n', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim()));

    internal static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine($"memcheck: {message}");
        return exitCode;
    }

    internal static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.1.0";
}
