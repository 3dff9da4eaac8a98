using Checker.Engine.Heap;
using Checker.Engine.Instrumentation;
using Checker.Reports;
using Checker.Symbols.Demangling;
using Checker.Symbols.Symbolization;

namespace Checker.Memcheck;

/// <summary>
/// Glue between detection and presentation for one run: turns the engine's records (heap errors
/// today) into <see cref="ErrorRecord"/>s with symbolized stacks, prints each new error as it
/// happens, and at the end writes the summary and the JSON file, on every path out (normal exit,
/// crash, engine failure), so reports are never lost.
/// </summary>
public sealed class ReportSession : IDisposable
{
    private readonly string[] _command;
    private readonly MemcheckSettings _settings;
    private readonly FrameSymbolizer _symbolizer = new();
    private readonly TextReportWriter _text = new(Console.Error);
    private readonly ErrorCollector _collector;
    // Leaks under --leak-check=summary: counted and shown under ERRORS IGNORED, never errors.
    private readonly ErrorCollector _ignored = new();
    private bool _finished;

    public ReportSession(string[] command, MemcheckSettings settings)
    {
        _command = command;
        _settings = settings;
        _collector = new ErrorCollector(onFirstOccurrence: _text.WriteError);
    }

    public bool AnyErrors => _collector.Summary().Total > 0;

    public bool WantsLeakScan => _settings.ScanForLeaks;

    public void OnHeapError(HeapError error)
    {
        BlockInfo? block = error.Chunk is HeapChunk chunk ? Block(chunk) : null;
        ErrorKind kind = error.Kind == HeapErrorKind.FishyArgument ? ErrorKind.FishyArgument : ErrorKind.InvalidHeapArgument;
        _collector.Add(new ErrorRecord(kind, HeapMessage(error), Thread: 1, Frames(error.Stack), Block: block));
    }

    /// <summary>An unaddressable access found by an inline check, worded as Dr. Memory does.</summary>
    public void OnAccessError(AccessError error)
    {
        string verb = error.IsWrite ? "writing" : "reading";
        string where = error.Place switch
        {
            AccessErrorPlace.BeyondHeapBounds => $" {error.Offset} byte(s) {(error.BeforeBlock ? "before" : "beyond")} a {error.Chunk!.Size}-byte block",
            AccessErrorPlace.FreedMemory => $" {error.Offset} byte(s) into a {error.Chunk!.Size}-byte block",
            AccessErrorPlace.BeyondTopOfStack => $" {error.Offset} byte(s) below the stack pointer",
            _ => "",
        };
        string? detail = error.Place switch
        {
            AccessErrorPlace.BeyondHeapBounds => "beyond heap bounds",
            AccessErrorPlace.FreedMemory => "of freed memory",
            AccessErrorPlace.BeyondTopOfStack => "beyond top of stack",
            _ => "of unallocated heap memory",
        };
        _collector.Add(new ErrorRecord(ErrorKind.Unaddressable, $"{verb} {error.Size} byte(s) at 0x{error.Address:x}{where}", Thread: 1,
            Frames(error.Stack, innermostIsExact: true), detail,
            new AccessInfo(error.IsWrite ? AccessType.Write : AccessType.Read, error.Address, error.Size),
            error.Chunk is HeapChunk chunk ? Block(chunk) : null));
    }

    /// <summary>
    /// The leak check's findings as Valgrind's loss records: the blocks of one allocation site (the
    /// stack as far as errors are told apart) and kind fold into one record that says how many
    /// blocks and bytes it holds; errors with --leak-check=full, else only counted under ERRORS
    /// IGNORED (Valgrind's default).
    /// </summary>
    public void OnLeaks(IReadOnlyList<LeakedBlock> leaks)
    {
        ErrorCollector target = _settings.LeaksAreErrors ? _collector : _ignored;
        // Allocation stacks are interned (one array per distinct stack): key each array once.
        var sites = new Dictionary<ulong[], string>(ReferenceEqualityComparer.Instance);
        var records = new Dictionary<(bool Possible, string Site), LeakRecord>();
        var order = new List<LeakRecord>();
        foreach (LeakedBlock leak in leaks.OrderBy(l => l.Chunk.User))
        {
            ulong[] stack = leak.Chunk.AllocStack;
            if (!sites.TryGetValue(stack, out string? site))
                sites[stack] = site = string.Join(',', IdentityPcs(stack, target.IdentityFrames));
            if (!records.TryGetValue((leak.Possible, site), out LeakRecord? record))
            {
                records[(leak.Possible, site)] = record = new LeakRecord(leak.Chunk, leak.Possible);
                order.Add(record);
            }
            record.Blocks++;
            record.Direct += leak.Chunk.Size;
            record.Indirect += leak.IndirectBytes;
            record.IndirectBlocks += (ulong)leak.IndirectBlocks;
        }
        foreach (LeakRecord r in order)
        {
            string message = r.Possible
                ? $"{Count(r.Direct, "byte")} in {Count(r.Blocks, "block")} reached only along paths through a pointer into a block's middle"
                : $"{Count(r.Direct, "direct byte")} in {Count(r.Blocks, "block")}" + (r.IndirectBlocks > 0 ? $", {Count(r.Indirect, "indirect byte")} in {Count(r.IndirectBlocks, "block")}" : "");
            target.Add(new ErrorRecord(r.Possible ? ErrorKind.PossibleLeak : ErrorKind.Leak, message, Thread: 1,
                Frames(r.First.AllocStack), Leak: new LeakInfo(r.Direct + r.Indirect, r.Blocks, false, r.Indirect, r.IndirectBlocks)));
        }
    }

    /// <summary>One loss record being summed: its first (lowest) block gives the stack.</summary>
    private sealed class LeakRecord(HeapChunk first, bool possible)
    {
        public HeapChunk First { get; } = first;
        public bool Possible { get; } = possible;
        public ulong Blocks, Direct, Indirect, IndirectBlocks;
    }

    private static string Count(ulong n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    // What ErrorCollector tells errors apart by: the first pcs, a repeated pc (inlined frames) once.
    private static IEnumerable<ulong> IdentityPcs(ulong[] stack, int frames)
    {
        int taken = 0;
        for (int i = 0; i < stack.Length && taken < frames; i++)
        {
            if (i > 0 && stack[i] == stack[i - 1]) continue;
            taken++;
            yield return stack[i];
        }
    }

    /// <summary>The guest's status decided: summary (when checking) and JSON. Returns the exit code memcheck should use.</summary>
    public int Finish(int guestExitCode, bool printSummary)
    {
        if (_finished) return guestExitCode;
        _finished = true;
        ErrorSummary? ignored = _ignored.Summary() is { Total: > 0 } some ? some : null;
        if (printSummary)
        {
            _text.WriteSummary(_collector.Summary());
            if (ignored != null) _text.WriteIgnored(ignored, "--leak-check=full lists them");
        }
        if (_settings.JsonPath is string path)
        {
            try
            {
                JsonReportWriter.WriteFile(path, new RunInfo(_command[0], _command[1..], Environment.ProcessId, guestExitCode), _collector, ignored);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"memcheck: cannot write {path}: {e.Message}");
            }
        }
        return AnyErrors && _settings.ErrorExitCode is int code ? code : guestExitCode;
    }

    private BlockInfo Block(HeapChunk chunk) =>
        new(chunk.User, chunk.Size, chunk.Freed ? BlockState.Freed : BlockState.Allocated,
            Frames(chunk.AllocStack), chunk.FreeStack is ulong[] freed ? Frames(freed) : null);

    /// <param name="innermostIsExact">The first pc is the faulting instruction itself, the rest are return addresses.</param>
    private List<ReportFrame> Frames(IEnumerable<ulong> pcs, bool innermostIsExact = false)
    {
        var frames = new List<ReportFrame>();
        bool first = true;
        foreach (ulong pc in pcs)
        {
            IReadOnlyList<SymbolizedFrame> symbolized = _symbolizer.Frames(pc, isReturnAddress: !(first && innermostIsExact));
            first = false;
            if (symbolized.Count == 0) frames.Add(new ReportFrame(pc));
            foreach (SymbolizedFrame f in symbolized)
                frames.Add(new ReportFrame(pc, f.ModulePath, f.ModuleOffset, f.Function, f.File, f.Line, f.Inlined, f.SymbolOffset));
        }
        return WithoutReplacementInternals(frames);
    }

    /// <summary>
    /// An error inside a string replacement starts with the library's private helpers (memcpy calls
    /// move, which inlines copy_forward): only the exported function, the one the program called,
    /// is worth showing, as Dr. Memory shows just replace_memcpy.
    /// </summary>
    private static List<ReportFrame> WithoutReplacementInternals(List<ReportFrame> frames)
    {
        static bool InLibrary(ReportFrame f) => Path.GetFileName(f.ModulePath) == Checker.Engine.Interception.StringReplacements.FileName;
        int run = 0;
        while (run < frames.Count && InLibrary(frames[run])) run++;
        if (run > 1) frames.RemoveRange(0, run - 1);
        return frames;
    }

    private static string HeapMessage(HeapError e)
    {
        string routine = Demangler.Demangle(e.Routine);
        return e.Kind switch
        {
            HeapErrorKind.DoubleFree => $"{routine} 0x{e.Address:x}: the block was already freed (double free)",
            HeapErrorKind.FreeOfNonHeapAddress => $"{routine} 0x{e.Address:x}: not a heap address",
            HeapErrorKind.FreeOfInteriorPointer => $"{routine} 0x{e.Address:x}: points inside a block, not at its start",
            HeapErrorKind.MismatchedFree => $"{routine} 0x{e.Address:x}: allocated with {Family(e.Chunk!.Kind)}, freed with {routine}",
            HeapErrorKind.FishyArgument => FishyMessage(routine, e.Fishy!),
            _ => e.Kind.ToString(),
        };
    }

    /// <summary>Valgrind's wording for the negative case ("Argument 'size' of function malloc has a fishy (possibly negative) value: -1").</summary>
    private static string FishyMessage(string routine, FishyArgument f) => f.Reason switch
    {
        FishyReason.Negative => $"Argument '{f.Name}' of function {routine} has a fishy (possibly negative) value: {(long)f.Value}",
        FishyReason.Overflow => $"Arguments '{f.Name}' and '{f.OtherName}' of function {routine} overflow when multiplied: {f.Value} * {f.OtherValue}",
        _ => $"Argument '{f.Name}' of function {routine} is not a power of two{(routine == "posix_memalign" ? " multiple of sizeof(void *)" : "")}: {f.Value}",
    };

    private static string Family(AllocationKind kind) => kind switch
    {
        AllocationKind.Malloc => "malloc",
        AllocationKind.New => "operator new",
        _ => "operator new[]",
    };

    public void Dispose() => _symbolizer.Dispose();
}
