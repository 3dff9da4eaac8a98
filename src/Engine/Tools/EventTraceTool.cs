using System.Runtime.Versioning;
using Checker.Engine.Dispatch;
using Checker.Engine.State;

namespace Checker.Engine.Tools;

/// <summary>
/// --trace-events: the tool the program runs under, with each event of the tool interface written
/// as one line before the tool sees it (as Valgrind's --trace-syscalls/--trace-signals show the
/// core's view). Shows a tool writer what the engine tells it and when; tests check the engine
/// raises each event with the right arguments. The per-block and per-instruction calls (ModeOf,
/// syscalls, tool exits, probes) are forwarded without a line: they would drown the rest.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class EventTraceTool(Tool inner, Action<string> writeLine) : Tool
{
    public Tool Inner { get; } = inner;

    private void Line(string text) => writeLine("event: " + text);

    private static string Range(ulong start, ulong end) => $"0x{start:x}-0x{end:x}";

    private static string Protection(int prot) =>
        $"{((prot & 1) != 0 ? 'r' : '-')}{((prot & 2) != 0 ? 'w' : '-')}{((prot & 4) != 0 ? 'x' : '-')}";

    public override void Attach(ToolHost host) => Inner.Attach(host);
    public override ulong SegmentBase => Inner.SegmentBase;
    public override string? TranslationKey => Inner.TranslationKey;
    public override void SaveTranslationState(BinaryWriter writer) => Inner.SaveTranslationState(writer);
    public override object? ReadTranslationState(BinaryReader reader) => Inner.ReadTranslationState(reader);
    public override void RestoreTranslationState(object? state) => Inner.RestoreTranslationState(state);
    public override BlockInstrumenter? CreateInstrumenter() => Inner.CreateInstrumenter();

    public override void OnThreadStarted(GuestThread thread, GuestThread? parent, ulong stackPointer)
    {
        Line(parent == null
            ? $"thread-start {thread.Number} (main) rsp 0x{stackPointer:x}"
            : $"thread-start {thread.Number} from {parent.Number} stack 0x{stackPointer:x}");
        Inner.OnThreadStarted(thread, parent, stackPointer);
    }

    public override void OnThreadExited(GuestThread thread)
    {
        Line($"thread-exit {thread.Number}");
        Inner.OnThreadExited(thread);
    }

    public override void OnAlternateStack(GuestThread thread, ulong start, ulong size)
    {
        Line(size == 0 ? $"altstack {thread.Number} disabled" : $"altstack {thread.Number} {Range(start, start + size)}");
        Inner.OnAlternateStack(thread, start, size);
    }

    public override void OnSignalFrame(GuestThread thread, int signal, ulong start, ulong end)
    {
        Line($"signal-frame {thread.Number} signal {signal} {Range(start, end)}");
        Inner.OnSignalFrame(thread, signal, start, end);
    }

    public override void OnFaultHandledByProgram(GuestFault fault)
    {
        Line($"fault-handled signal {fault.Signal} pc 0x{fault.Pc:x}");
        Inner.OnFaultHandledByProgram(fault);
    }

    public override void OnModuleLoaded(string path, ulong start, ulong end)
    {
        Line($"module-load {Range(start, end)} {path}");
        Inner.OnModuleLoaded(path, start, end);
    }

    public override void OnModuleUnloaded(string path, ulong start, ulong end)
    {
        Line($"module-unload {Range(start, end)} {path}");
        Inner.OnModuleUnloaded(path, start, end);
    }

    public override void OnMemoryMapped(ulong start, ulong length, int protection, bool anonymous)
    {
        Line($"mmap {Range(start, start + length)} {Protection(protection)} {(anonymous ? "anonymous" : "file")}");
        Inner.OnMemoryMapped(start, length, protection, anonymous);
    }

    public override void OnMemoryUnmapped(ulong start, ulong end)
    {
        Line($"munmap {Range(start, end)}");
        Inner.OnMemoryUnmapped(start, end);
    }

    public override void OnMemoryProtected(ulong start, ulong length, int protection)
    {
        Line($"mprotect {Range(start, start + length)} {Protection(protection)}");
        Inner.OnMemoryProtected(start, length, protection);
    }

    public override void OnMemoryRemapped(ulong oldStart, ulong oldLength, ulong newStart, ulong newLength)
    {
        Line($"mremap {Range(oldStart, oldStart + oldLength)} to {Range(newStart, newStart + newLength)}");
        Inner.OnMemoryRemapped(oldStart, oldLength, newStart, newLength);
    }

    public override void OnBrk(ulong oldEnd, ulong newEnd)
    {
        Line($"brk 0x{oldEnd:x} to 0x{newEnd:x}");
        Inner.OnBrk(oldEnd, newEnd);
    }

    public override void OnForkedChild()
    {
        Line("fork child");
        Inner.OnForkedChild();
    }

    public override void OnExec(string program)
    {
        Line($"exec {program}");
        Inner.OnExec(program);
    }

    public override void OnExecFailed(string program, int errno)
    {
        Line($"exec-failed {program} errno {errno}");
        Inner.OnExecFailed(program, errno);
    }

    public override void OnProcessExit(GuestOutcome outcome)
    {
        Line(outcome switch
        {
            GuestOutcome.Exited e => $"process-exit status {e.Status}",
            GuestOutcome.Signalled s => $"process-exit signal {s.Signal}",
            GuestOutcome.Stopped s => $"process-exit signal {s.Signal} (from outside)",
            GuestOutcome.Faulted f => $"process-exit signal {f.Signal} (fault at 0x{f.Pc:x})",
            _ => "process-exit engine failure",
        });
        Inner.OnProcessExit(outcome);
    }

    public override ulong OnClientRequest(GuestThread thread, ClientRequest request)
    {
        ulong answer = Inner.OnClientRequest(thread, request);
        Line($"client-request {thread.Number} 0x{request.Code:x} (0x{request.Arg1:x}, 0x{request.Arg2:x}, 0x{request.Arg3:x}, 0x{request.Arg4:x}, 0x{request.Arg5:x}) default 0x{request.Default:x} -> 0x{answer:x}");
        return answer;
    }

    // Hot or internal: forwarded silently.
    public override ulong[] CaptureThreadCreation(ContextBlock* parent, ulong clonePc) => Inner.CaptureThreadCreation(parent, clonePc);
    public override ulong? OnToolExit(ContextBlock* context) => Inner.OnToolExit(context);
    public override int ModeOf(ContextBlock* context) => Inner.ModeOf(context);
    public override void OnSyscallBefore(ContextBlock* context, long number, ulong pc) => Inner.OnSyscallBefore(context, number, pc);
    public override void OnSyscallAfter(ContextBlock* context, long number, long result) => Inner.OnSyscallAfter(context, number, result);
    public override bool IsProbeAddress(ulong address) => Inner.IsProbeAddress(address);
    public override bool ProbeCovers(ulong probe, ulong address, int size) => Inner.ProbeCovers(probe, address, size);
    public override ulong? RoutineFaultPc(ContextBlock* context) => Inner.RoutineFaultPc(context);
    public override void RestoreBorrowedRegisters(ulong cachePc, ContextBlock* context, ulong[] registers) =>
        Inner.RestoreBorrowedRegisters(cachePc, context, registers);
    public override void OnVforkChild() => Inner.OnVforkChild();
    public override byte[]? TakeVforkJournal() => Inner.TakeVforkJournal();
    public override void ReplayVforkJournal(byte[] journal) => Inner.ReplayVforkJournal(journal);
    public override int VforkPageStateBytes => Inner.VforkPageStateBytes;
    public override void ReadVforkPageState(ulong address, Span<byte> state) => Inner.ReadVforkPageState(address, state);
    public override void WriteVforkPageState(ulong address, ReadOnlySpan<byte> state) => Inner.WriteVforkPageState(address, state);
    public override void OnVforkChildForked() => Inner.OnVforkChildForked();
}
