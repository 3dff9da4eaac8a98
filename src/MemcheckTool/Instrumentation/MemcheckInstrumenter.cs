using Checker.Engine.Emission;
using Checker.Engine.Tools;
using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// memcheck's pass over each block: the inline access checks planned per instruction (with the
/// block's dead registers and flags, or the held scratch), gathers and scatters lane by lane, and
/// the stack's shadow kept with rsp for every instruction that sets it.
/// </summary>
public sealed class MemcheckInstrumenter(MemcheckRoutines routines) : BlockInstrumenter
{
    private readonly AccessCheckEmitter _checks = new(routines.Sites, routines.AccessCheck, routines.StringCheck);
    private readonly CheckPlanner _planner = new();
    private List<PlannedCheck>[] _plan = [];
    private BlockServices _block = null!;

    public override void BeginBlock(BlockServices block)
    {
        _block = block;
        _checks.Reset();
        _plan = _planner.Plan(block.Instructions);
    }

    public override void BeforeInstruction(CodeBuffer code, int index)
    {
        Instruction ins = _block.Instructions[index];
        if (ins.FlowControl is not (FlowControl.Next or FlowControl.IndirectCall or FlowControl.IndirectBranch) || ins.Code is Code.Syscall or Code.INVALID)
            return;
        Register scratch = _block.Liveness.FreeRegisterBefore(index);
        bool flagsDead = _block.Liveness.FlagsDeadBefore(index);
        // No dead register where the flags are dead: hold one across the run rather than spill per check.
        if (scratch == Register.None && flagsDead && _plan[index].Count > 0)
            scratch = _block.Held.Held != Register.None ? _block.Held.Held
                : ins.FlowControl == FlowControl.Next ? _block.Held.Acquire(code, _block.Instructions, index) : Register.None;
        _checks.EmitChecks(code, ins.IP, _plan[index], scratch, flagsDead);
        if (VsibCheck.Applies(ins)) VsibCheck.Emit(code, ins, routines.Sites, routines.VsibCheck);
    }

    public override bool TryEmitInstruction(CodeBuffer code, int index, Action<CodeBuffer> emitPlain)
    {
        Instruction ins = _block.Instructions[index];
        if (!StackTracking.WritesStackPointer(ins)) return false;
        if (StackTracking.TryEmitInline(code, ins, _block.Liveness.FreeRegisterAfter(index), _block.Liveness.FlagsDeadAfter(index)))
            return true;
        StackTracking.EmitBefore(code);
        emitPlain(code);
        StackTracking.EmitAfter(code, routines.StackAdjust);
        return true;
    }

    public override void AfterInstruction(CodeBuffer code, int index) => _checks.EmitAfter(code);

    public override void EmitStubs(CodeBuffer code) => _checks.EmitStubs(code);
}
