using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.Dispatch;
using Checker.MemcheckTool.ClientRequests;
using Checker.MemcheckTool.Definedness;
using Checker.MemcheckTool.Heap;
using Checker.MemcheckTool.Instrumentation;
using Checker.Engine.Interception;
using Checker.MemcheckTool.Replacements;
using Checker.Engine.Native;
using Checker.Engine.Syscalls;
using Checker.Reports;
using Checker.Reports.Xml;
using Checker.Reports.Html;
using Checker.Reports.Suppressions;
using Checker.Symbols.Demangling;

namespace Checker.Memcheck;

/// <summary>
/// Glue between detection and presentation for one run: turns the engine's records (heap errors
/// today) into <see cref="ErrorRecord"/>s with symbolized stacks, prints each new error as it
/// happens, and at the end writes the summary and the JSON file, on every path out (normal exit,
/// crash, engine failure), so reports are never lost.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ReportSession : IDisposable
{
    private readonly string[] _command;
    private readonly MemcheckSettings _settings;
    private readonly FrameSymbolizer _symbolizer;
    private readonly TextReportWriter _text;
    private readonly ErrorCollector _collector;
    // Leaks under --leak-check=summary: counted and shown under ERRORS IGNORED, never errors.
    private readonly ErrorCollector _ignored;
    private readonly SuppressionSet _suppressions;
    private bool _finished;
    // When the program started (the session is made just before it runs): the XML's status times.
    private readonly long _started = Stopwatch.GetTimestamp();
    private DeathInfo? _death;
    private EngineFailureInfo? _engineFailure;
    // In a forked child: the errors it inherited from its parent (0 in a program exec'd under
    // memcheck, -1 in the process memcheck started).
    private int _errorsAtFork = -1;
    // Which --json name this program takes (TracedExec.JsonIndex), and the file it last wrote.
    private int _jsonIndex;
    private string? _jsonWritten;
    // Where memcheck started (the program may chdir): SARIF's relative URIs are relative to it.
    private readonly string _workingDirectory = Environment.CurrentDirectory;

    /// <param name="process">The guest, asked how many threads it has had (an error names its thread only above one).</param>
    /// <param name="traced">Set when this memcheck runs a program another checked program exec'd.</param>
    public ReportSession(string[] command, MemcheckSettings settings, GuestProcess process, TracedExec? traced = null)
    {
        _ownAllocator = () => process.Interceptor?.ProgramWithOwnAllocator;
        _command = command;
        _settings = settings;
        // A pc in no mapping now may be a dlclose'd library's (a leak it allocated, reported at exit).
        _symbolizer = new FrameSymbolizer(process.Modules.Find, () => process.Modules.Generation,
            pc => process.Mappings.RangeAt(pc) == null ? process.Modules.FindUnloaded(pc) : null);
        // Read and checked at start (Program): here they come from SuppressionSet's cache.
        _suppressions = SuppressionSet.For(settings);
        _text = new TextReportWriter(Console.Error, () => LinePrefix.Current, () => process.ThreadsStarted)
        {
            SuppressionBlock = settings.GenSuppressions ? record => SuppressionBlock.For(record, settings.CallstackMaxFrames) : null,
        };
        _collector = new ErrorCollector(onFirstOccurrence: _text.WriteError, checkedKinds: CheckedKinds.For(settings)) { Suppression = _suppressions.Match };
        _ignored = new ErrorCollector { Suppression = _suppressions.Match };
        if (traced != null) (_errorsAtFork, _jsonIndex) = (0, traced.JsonIndex);
        process.ForkedChild += () => (_errorsAtFork, _jsonIndex, _jsonWritten) = (_collector.Summary().Total, 0, null);
        process.Execing += OnExec;
        process.ExecFailed += OnExecFailed;
    }

    /// <summary>A forked child (or an exec'd program) that has found nothing of its own.</summary>
    public bool NothingOfItsOwn => _errorsAtFork >= 0 && _collector.Summary().Total == _errorsAtFork;

    /// <summary>
    /// The --json index of a program this process execs under memcheck: one more than this
    /// program's when this program wrote the name an exec'd program would take (exec keeps the pid).
    /// </summary>
    public int NextJsonIndex() =>
        _settings.JsonPath is string option && _jsonWritten == ReportFilePath.For(option, HostProcess.Id, forkedChild: true, _jsonIndex)
            ? _jsonIndex + 1
            : _jsonIndex;

    public bool AnyErrors => _collector.Summary().Total > 0;

    public bool WantsLeakScan => _settings.ScanForLeaks;

    public void OnHeapError(HeapError error)
    {
        BlockInfo? block = error.Chunk is HeapChunk chunk ? Block(chunk) : null;
        ErrorKind kind = error.Kind == HeapErrorKind.FishyArgument ? ErrorKind.FishyArgument : ErrorKind.InvalidHeapArgument;
        ValgrindKind valgrind = error.Kind switch
        {
            HeapErrorKind.FishyArgument => ValgrindKind.FishyValue($"{AllocationRoutines.FishyFunction(error.Routine)}({error.Fishy!.Name})"),
            HeapErrorKind.MismatchedFree => ValgrindKind.MismatchedFree,
            _ => ValgrindKind.InvalidFree,
        } with { Routine = error.Routine };
        _collector.Add(new ErrorRecord(kind, HeapMessage(error), CurrentThread, Frames(error.Stack), Block: block, ThreadOrigin: CurrentOrigin())
        {
            Valgrind = valgrind,
            Address = error.Address,
        });
    }

    /// <summary>An unaddressable access found by an inline check, worded as Dr. Memory does.</summary>
    public void OnAccessError(AccessError error)
    {
        var raw = new RawStack(error.Stack, InnermostIsExact: true);
        if (_collector.TryAddRepeat(ErrorKind.Unaddressable, raw)) return;
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
        if (error.ClientBlock is string described) where += $", {described}";
        _collector.Add(new ErrorRecord(ErrorKind.Unaddressable, $"{verb} {error.Size} byte(s) at 0x{error.Address:x}{where}", CurrentThread,
            Frames(raw), detail,
            new AccessInfo(error.IsWrite ? AccessType.Write : AccessType.Read, error.Address, error.Size),
            error.Chunk is HeapChunk chunk ? Block(chunk) : null, ThreadOrigin: CurrentOrigin()) { Valgrind = ValgrindKind.Access(error.IsWrite, error.Size) },
            raw, out _);
    }

    /// <summary>
    /// An undefined value used where it matters (a conditional jump, an address, a system call's
    /// parameter...). A repeat (same kind, same top pcs: a loop over the same undefined condition)
    /// is only counted: its stack is not symbolized again.
    /// </summary>
    public void OnUninitialized(UninitializedError error)
    {
        var raw = new RawStack(error.Stack, error.InnermostIsExact);
        if (_collector.TryAddRepeat(ErrorKind.Uninitialized, raw)) return;
        (HeapChunk? origin, StackOrigin? fromStack, ulong freedHeap) = error.FindOrigin?.Invoke() ?? new OriginFound(error.Chunk, error.FromStack);
        _collector.Add(new ErrorRecord(ErrorKind.Uninitialized,
            origin is HeapChunk block ? $"{error.What}; it came from the {block.Size}-byte heap block at 0x{block.User:x}{(block.FreedSince ? ", freed since" : "")}"
            : fromStack is { } stack ? $"{error.What}; it came from {StackOriginText(stack)}"
            : freedHeap != 0 ? $"{error.What}; it came from a heap block that has been freed since (its bytes at 0x{freedHeap:x})" : error.What,
            CurrentThread, Frames(raw),
            Block: origin is HeapChunk chunk ? Block(chunk) : null, ThreadOrigin: CurrentOrigin())
        {
            Valgrind = Valgrind(error.Use),
            Address = error.Use.Address,
            AddressBlock = error.AddressChunk is HeapChunk holder ? Block(holder) : null,
        }, raw, out _);
    }

    private static ValgrindKind Valgrind(UninitializedUse use) => use.Class switch
    {
        UseClass.Value => ValgrindKind.Value(use.Size),
        UseClass.SyscallParameter => ValgrindKind.SyscallParam(use.Parameter ?? "?"),
        _ => ValgrindKind.Condition,
    };

    /// <summary>
    /// "a stack frame of record_with_holes", as Valgrind's "created by a stack allocation" names the
    /// function; without a symbol, the frame's code as module+offset ("a stack frame at
    /// libclrjit.so+0x182b1a", a return address into the function).
    /// </summary>
    private string StackOriginText(StackOrigin origin)
    {
        if (origin.Returned) return "a stack frame that had returned (below the stack pointer)";
        ReportFrame? frame = Frames([origin.Pc], innermostIsExact: origin.PcIsExact).LastOrDefault();
        if (frame?.Function is string function) return $"a stack frame of {function}";
        return frame?.ModulePath is string module
            ? $"a stack frame at {Path.GetFileName(module)}+0x{frame.ModuleOffset:x}"
            : "a stack frame";
    }

    /// <summary>Memory a system call would read or write that the program may not touch (a freed buffer, a NULL path).</summary>
    public void OnParameterAddress(ParameterAddressError error) =>
        _collector.Add(new ErrorRecord(ErrorKind.Unaddressable, error.What, CurrentThread, Frames(error.Stack, innermostIsExact: true),
            error.Chunk is { Freed: true } ? "of freed memory" : error.Chunk != null ? "beyond heap bounds" : "not within a mapped region",
            new AccessInfo(AccessType.Read, error.Address, error.Size),
            error.Chunk is HeapChunk block ? Block(block) : null, ThreadOrigin: CurrentOrigin()) { Valgrind = ValgrindKind.SyscallParam(error.Parameter) });

    /// <summary>
    /// An access that faulted natively (SIGSEGV/SIGBUS in guest code): an unaddressable access with
    /// the stack unwound from the faulting instruction, as Valgrind reports an invalid read before
    /// the death. Returns the error's number, for the death note (null when a suppression silenced it).
    /// </summary>
    public int? OnFaultingAccess(FaultAccessKind kind, ulong address, int size, string detail, IReadOnlyList<ulong> stack)
    {
        string what = kind switch
        {
            FaultAccessKind.Execute => $"executing code at 0x{address:x}",
            FaultAccessKind.Write => $"writing {size} byte(s) at 0x{address:x}",
            _ => $"reading {size} byte(s) at 0x{address:x}",
        };
        AccessType type = kind switch { FaultAccessKind.Execute => AccessType.Execute, FaultAccessKind.Write => AccessType.Write, _ => AccessType.Read };
        ReportedError error = _collector.Add(new ErrorRecord(ErrorKind.Unaddressable, what, CurrentThread, Frames(stack, innermostIsExact: true), detail,
            new AccessInfo(type, address, (ulong)size), ThreadOrigin: CurrentOrigin())
        {
            Valgrind = kind == FaultAccessKind.Execute ? ValgrindKind.Jump : ValgrindKind.Access(kind == FaultAccessKind.Write, (ulong)size),
        }, out _);
        return error.SuppressedBy is null ? error.Id : null;
    }

    /// <summary>A note in the text report, outside any error (the program's death).</summary>
    public void WriteNote(string headline, IReadOnlyList<ReportFrame> frames) => _text.WriteNote(headline, frames);

    /// <summary>The program is dying of a signal: recorded for the JSON ("signal").</summary>
    public void OnDeath(DeathInfo death) => _death = death;

    /// <summary>memcheck cannot run the program on: the summary says the run is incomplete, the JSON has "engine_failure".</summary>
    public void OnEngineFailure(string message) => _engineFailure = new EngineFailureInfo(message);

    /// <summary>Whether the run was stopped by an engine failure.</summary>
    public bool HasEngineFailure => _engineFailure != null;

    /// <summary>Source frames of a stack whose first pc is an exact instruction (a crash) or a return address.</summary>
    public IReadOnlyList<ReportFrame> SymbolizedStack(IReadOnlyList<ulong> pcs, bool innermostIsExact) => Frames(pcs, innermostIsExact);

    /// <summary>
    /// A copy routine called with overlapping source and destination, worded as Valgrind does; the
    /// stack starts in the routine (shown as the libc function) above the program's call.
    /// </summary>
    public void OnOverlap(OverlapError error) =>
        _collector.Add(new ErrorRecord(ErrorKind.Overlap, $"source and destination overlap in {error.Call}", CurrentThread, Frames(error.Stack),
            ThreadOrigin: CurrentOrigin()) { Valgrind = ValgrindKind.Overlap });

    /// <summary>The guest thread an error is detected on (detection runs on that thread's host thread); 1 elsewhere.</summary>
    private static int CurrentThread => GuestThread.Current?.Number ?? 1;

    /// <summary>Its kernel id and where it was created, symbolized.</summary>
    private ThreadOrigin? CurrentOrigin() =>
        GuestThread.Current is { } thread ? new ThreadOrigin(thread.Tid, Frames(thread.CreationStack, innermostIsExact: true)) : null;

    /// <summary>
    /// The leak check's findings as Valgrind's loss records: the blocks of one allocation site (the
    /// stack as far as errors are told apart) and kind fold into one record that says how many
    /// blocks and bytes it holds; errors with --leak-check=full, else only counted under ERRORS
    /// IGNORED (Valgrind's default).
    /// </summary>
    public void OnLeaks(IReadOnlyList<LeakedBlock> leaks) => AddLeakRecords(leaks, _settings.LeaksAreErrors ? _collector : _ignored);

    // Blocks earlier nudges found lost (user address and allocation stack): --new leaves them out.
    private HashSet<(ulong, ulong[])> _nudged = new(new BlockIdentity());
    private readonly Lock _nudgeLock = new();

    /// <summary>
    /// A nudge's leak check while the program runs: its loss records in the text report under a
    /// note, and FILE.nudge-K next to --json FILE. <paramref name="onlyNew"/>: only blocks no earlier
    /// nudge reported. The run's own summary and JSON are not changed.
    /// </summary>
    public void OnNudge(IReadOnlyList<LeakedBlock> leaks, int number, bool onlyNew)
    {
        lock (_nudgeLock)
        {
            var found = new HashSet<(ulong, ulong[])>(leaks.Select(l => (l.Chunk.User, l.Chunk.AllocStack)), new BlockIdentity());
            IReadOnlyList<LeakedBlock> shown = onlyNew ? leaks.Where(l => !_nudged.Contains((l.Chunk.User, l.Chunk.AllocStack))).ToList() : leaks;
            _nudged = found;
            var collector = new ErrorCollector(onFirstOccurrence: _text.WriteError, checkedKinds: [ErrorKind.Leak, ErrorKind.PossibleLeak])
            {
                Suppression = _suppressions.Match,
            };
            _text.WriteNote($"nudge {number}: the leak check while the program runs{(onlyNew ? " (only leaks new since the last nudge)" : "")}:", []);
            AddLeakRecords(shown, collector);
            _text.WriteSummary(collector.Summary(), null);
            _text.WriteSuppressed(collector.UsedSuppressions, _settings.Verbose ? _suppressions.Location : null);
            if (_settings.JsonPath is string option)
            {
                string path = ReportFilePath.For(option, HostProcess.Id, forkedChild: _errorsAtFork >= 0);
                if (!Checker.Reports.ReportFile.IsSpecial(path)) path += $".nudge-{number}";
                try
                {
                    JsonReportWriter.WriteFile(path, new RunInfo(_command[0], _command[1..], HostProcess.Id, 0) { Nudge = number }, collector, null);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine(LinePrefix.Line($"cannot write {path}: {e.Message}"));
                }
            }
            Console.Error.Flush();
        }
    }

    /// <summary>Errors so far, repeats included (VALGRIND_COUNT_ERRORS).</summary>
    public int ErrorCount => _collector.Summary().Total;

    /// <summary>
    /// A failed VALGRIND_CHECK_MEM_IS_ADDRESSABLE/DEFINED (Valgrind's ClientCheck): an unaddressable
    /// access or an uninitialized read whose message says it was the program's own check.
    /// </summary>
    public void OnClientCheck(ClientCheckError error)
    {
        string where = "";
        if (error.Chunk is HeapChunk chunk)
        {
            ulong bad = error.BadAddress, end = chunk.User + chunk.Size;
            where = bad < chunk.User ? $", {chunk.User - bad} byte(s) before a {chunk.Size}-byte block"
                : bad >= end ? $", {bad - end} byte(s) beyond a {chunk.Size}-byte block"
                : $", {bad - chunk.User} byte(s) into a {chunk.Size}-byte block";
        }
        if (error.ClientBlock is string described) where += $", {described}";
        string? detail = error.Undefined ? null : error.Chunk is { Freed: true } ? "of freed memory" : error.Chunk != null ? "beyond heap bounds" : null;
        _collector.Add(new ErrorRecord(error.Undefined ? ErrorKind.Uninitialized : ErrorKind.Unaddressable,
            $"client check {error.Request}(0x{error.Start:x}, {error.Length}): byte 0x{error.BadAddress:x} is {(error.Undefined ? "undefined" : "unaddressable")}{where}",
            CurrentThread, Frames(error.Stack, innermostIsExact: true), detail, new AccessInfo(AccessType.Read, error.BadAddress, 1),
            error.Chunk is HeapChunk block ? Block(block) : null, ThreadOrigin: CurrentOrigin()));
    }

    /// <summary>The program's VALGRIND_PRINTF text as memcheck's lines, with the stack at the request for PRINTF_BACKTRACE.</summary>
    public void OnClientMessage(string text, ulong[]? backtrace) =>
        _text.WriteMessage(text, backtrace != null ? Frames(backtrace, innermostIsExact: true) : []);

    /// <summary>
    /// A leak check the program asked for (VALGRIND_DO_LEAK_CHECK and its forms), reported as a
    /// nudge's is: a note, the loss records (none for the quick check), their summary. The run's own
    /// summary and JSON are not changed.
    /// </summary>
    public void OnRequestedLeakCheck(IReadOnlyList<LeakedBlock> leaks, LeakCheckRequest request)
    {
        lock (_nudgeLock)
        {
            var collector = new ErrorCollector(onFirstOccurrence: request.Full ? _text.WriteError : null, checkedKinds: [ErrorKind.Leak, ErrorKind.PossibleLeak]);
            _text.WriteNote($"{request.Macro}: the leak check the program asked for{(request.Delta != LeakDelta.Any ? $" (records {request.Delta.ToString().ToLowerInvariant()} since its last one)" : "")}:", []);
            AddLeakRecords(leaks, collector);
            _text.WriteSummary(collector.Summary(), null);
        }
    }

    /// <summary>A block by its address and its (interned) allocation stack: an address reused by another allocation is another block.</summary>
    private sealed class BlockIdentity : IEqualityComparer<(ulong, ulong[])>
    {
        public bool Equals((ulong, ulong[]) a, (ulong, ulong[]) b) => a.Item1 == b.Item1 && ReferenceEquals(a.Item2, b.Item2);
        public int GetHashCode((ulong, ulong[]) x) => HashCode.Combine(x.Item1, System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(x.Item2));
    }

    private void AddLeakRecords(IReadOnlyList<LeakedBlock> leaks, ErrorCollector target)
    {
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
            ErrorRecord Record(List<ReportFrame> frames) =>
                new(r.Possible ? ErrorKind.PossibleLeak : ErrorKind.Leak, message, Thread: 1,
                    frames, Leak: new LeakInfo(r.Direct + r.Indirect, r.Blocks, false, r.Indirect, r.IndirectBlocks))
                {
                    // Valgrind's stack starts in the allocator (fun:malloc): suppressions match it there.
                    Valgrind = ValgrindKind.Leak(r.Possible ? "possible" : "definite") with { Routine = AllocationRoutines.Name(r.First.Routine) },
                };
            // A leak a default suppression silences (a threaded program's DTV in glibc's stack cache)
            // is matched on symbol-table names: never shown, its stack need not read libc's DWARF.
            ErrorRecord bySymbols = Record(FramesBySymbols(r.First.AllocStack));
            target.Add(_suppressions.MatchDefaultBySymbols(bySymbols) != null ? bySymbols : Record(Frames(r.First.AllocStack)));
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

    /// <summary>
    /// The program is about to exec <paramref name="program"/> (which then runs under a memcheck of
    /// its own, or natively): if the exec succeeds this process ends there, so its report ends
    /// here, with the summary and the JSON as they stand (no leak check: exec is not an exit). A
    /// forked child (or exec'd program) that found nothing of its own writes nothing (system() and
    /// popen() would repeat the parent's report at every call).
    /// </summary>
    public void OnExec(string program)
    {
        if (_finished || NothingOfItsOwn) return;
        if (_settings.CheckHeap && !_settings.Quiet)
        {
            _text.WriteNote($"the program execs {program}: its report ends here", []);
            WriteSummary();
        }
        WriteReportFiles(new RunInfo(_command[0], _command[1..], HostProcess.Id, 0, _death, _engineFailure) { Exec = program });
        Console.Error.Flush();
    }

    /// <summary>The exec announced by <see cref="OnExec"/> failed: the run goes on, and its end rewrites the JSON.</summary>
    public void OnExecFailed(string program, int errno)
    {
        if (_finished || !_settings.CheckHeap || NothingOfItsOwn) return;
        Console.Error.WriteLine(LinePrefix.Line($"the exec of {program} failed ({Marshal.GetPInvokeErrorMessage(errno)}): the program goes on"));
    }

    /// <summary>The guest's status decided: summary (when checking) and JSON. Returns the exit code memcheck should use.</summary>
    public int Finish(int guestExitCode, bool printSummary)
    {
        if (_finished) return guestExitCode;
        _finished = true;
        if (printSummary) WriteSummary();
        WriteReportFiles(new RunInfo(_command[0], _command[1..], HostProcess.Id, guestExitCode, _death, _engineFailure));
        return ErrorsForExitCode && _settings.ErrorExitCode is int code ? code : guestExitCode;
    }

    /// <summary>
    /// Whether --error-exitcode applies: an unsuppressed error of any kind, a leak only of a kind
    /// --errors-for-leak-kinds names (leaks are errors only under --leak-check=full).
    /// </summary>
    public bool ErrorsForExitCode => _collector.Errors.Any(e =>
        e.Record.Leak is null || _settings.ErrorsForLeakKinds.Contains(e.Record.Valgrind?.Extra ?? "definite"));

    private ErrorSummary? Ignored => _ignored.Summary() is { Total: > 0 } some ? some : null;

    // The program's own malloc, left unreplaced (FunctionInterceptor): named once, before the summary.
    private readonly Func<string?> _ownAllocator;

    private void WriteSummary()
    {
        // -q: errors only (a death is still told: GuestTermination's notes).
        if (_settings.Quiet) return;
        if (_ownAllocator() is string program) _text.WriteNote($"{program} has its own malloc, left to run as its code (its other entry points would meet blocks it never made): its heap blocks were not checked", []);
        _text.WriteSummary(_collector.Summary(), _engineFailure is not null ? "memcheck stopped the program: see the engine failure above" : null);
        if (Ignored is ErrorSummary ignored) _text.WriteIgnored(ignored, "--leak-check=full lists them");
        _text.WriteSuppressed(UsedSuppressions, _settings.Verbose ? _suppressions.Location : null);
    }

    /// <summary>What suppressions silenced, errors and ignored leaks together, by suppression in order of first use.</summary>
    private IReadOnlyList<(string Name, int Count)> UsedSuppressions =>
        _collector.UsedSuppressions.Concat(_ignored.UsedSuppressions)
            .GroupBy(u => u.Name).Select(g => (g.Key, g.Sum(u => u.Count))).ToArray();

    /// <summary>
    /// The report files of this process (--json, --xml, --sarif, --html), written on every path out:
    /// exit, death, engine failure, exec. A forked child's are its own (<see cref="ReportFilePath"/>).
    /// </summary>
    private void WriteReportFiles(RunInfo run)
    {
        if (WriteReportFile(_settings.JsonPath, path => JsonReportWriter.WriteFile(path, run, _collector, Ignored, UsedSuppressions)) is string json) _jsonWritten = json;
        WriteReportFile(_settings.XmlPath, path => XmlReportWriter.WriteFile(path, run, XmlDetails(), _collector.Errors, UsedSuppressions));
        WriteReportFile(_settings.HtmlPath, path => HtmlReportWriter.WriteFile(path, run, _collector, new HtmlReportOptions(Program.Version, DateTimeOffset.UtcNow) { Ignored = Ignored, Suppressions = UsedSuppressions }));
        WriteReportFile(_settings.SarifPath, path => SarifReportWriter.WriteFile(path, run, _collector, new SarifToolInfo(Program.Version, Environment.GetCommandLineArgs(), _workingDirectory), UsedSuppressions));
    }

    /// <summary>What the XML says of memcheck's own run: its executable and options, the parent, the times since the program started.</summary>
    private XmlRunDetails XmlDetails() =>
        new(Environment.ProcessPath ?? "memcheck", _settings.OptionArguments().ToArray(), HostProcess.ParentId, Program.Version,
            TimeSpan.Zero, Stopwatch.GetElapsedTime(_started));

    /// <summary>Writes the file <paramref name="option"/> names for this process; returns its path, or null when not written.</summary>
    private string? WriteReportFile(string? option, Action<string> write)
    {
        if (option is null) return null;
        string path = ReportFilePath.For(option, HostProcess.Id, forkedChild: _errorsAtFork >= 0, _jsonIndex);
        try
        {
            write(path);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine(LinePrefix.Line($"cannot write {path}: {e.Message}"));
            return null;
        }
    }

    private BlockInfo Block(HeapChunk chunk) =>
        new(chunk.User, chunk.Size, chunk.Freed ? BlockState.Freed : BlockState.Allocated,
            Frames(chunk.AllocStack), chunk.FreeStack is ulong[] freed ? Frames(freed) : null);

    private List<ReportFrame> Frames(RawStack raw) => Frames(raw.Pcs, raw.InnermostIsExact);

    private List<ReportFrame> FramesBySymbols(IEnumerable<ulong> pcs)
    {
        List<ReportFrame> frames = _symbolizer.StackBySymbols(pcs);
        return _settings.ShowBelowMain ? frames : [.. BelowMain.Cut(frames)];
    }



    /// <param name="innermostIsExact">The first pc is the faulting instruction itself, the rest are return addresses.</param>
    private List<ReportFrame> Frames(IEnumerable<ulong> pcs, bool innermostIsExact = false)
    {
        List<ReportFrame> frames = _symbolizer.Stack(pcs, innermostIsExact);
        return _settings.ShowBelowMain ? frames : [.. BelowMain.Cut(frames)];
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
            HeapErrorKind.UnknownCustomBlock => $"{routine} 0x{e.Address:x}: no block the program's allocator described (VALGRIND_MALLOCLIKE_BLOCK, VALGRIND_MEMPOOL_ALLOC) starts there",
            HeapErrorKind.IllegalMempool => $"{routine} 0x{e.Address:x}: no memory pool has this address (VALGRIND_CREATE_MEMPOOL)",
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
