namespace Checker.Engine.CodeCache;

/// <summary>Why a fragment leaves through a stub, and so what the dispatcher does next.</summary>
public enum ExitKind : byte
{
    /// <summary>A direct branch or fall-through: translate the target, then link the branch to it.</summary>
    Direct,
    /// <summary>A <c>syscall</c> instruction: the dispatcher performs it and continues at <see cref="ExitStub.TargetPc"/>.</summary>
    Syscall,
    /// <summary>An instruction that raises a signal natively (ud2, int3, hlt): the guest dies of it.</summary>
    Fault,
    /// <summary>The entry of a replaced function (<see cref="Interception.FunctionInterceptor"/>): run it in C#, then return.</summary>
    Intercept,
    /// <summary>
    /// Valgrind's client request sequence (<see cref="Translation.ClientRequestPreamble"/>): the
    /// engine or the tool answers in rdx, then the program goes on at <see cref="ExitStub.TargetPc"/>.
    /// </summary>
    ClientRequest,
    /// <summary>Valgrind's get-NRADDR sequence: rax = 0 (no function is wrapped here), then on at <see cref="ExitStub.TargetPc"/>.</summary>
    GetNoRedirectAddress,
}

/// <summary>
/// One exit of a fragment. Its stub records <see cref="Id"/> in the context block and jumps to the
/// exit routine; a direct exit is later linked by rewriting the rel32 (within an aligned quadword) at <see cref="PatchSite"/>
/// from the stub to the target fragment.
/// <para>
/// Every fragment has a few (cc1plus: 470,000 exits) and they live as long as it does, so an exit
/// is a value in <see cref="TranslationCache"/>'s fixed chunks, addressed by its id, not an object:
/// as objects they were 40% of what translation allocated, each one copied by the young
/// collections and marked by the full ones. What only fault and intercept exits need is in a side
/// object, and the exits linked to one fragment form a list of ids through <see cref="NextIncoming"/>.
/// <see cref="TranslationCache.Exit"/> hands out copies; the cache changes the stored values.
/// </para>
/// </summary>
public struct ExitStub(int id, ExitKind kind, ulong targetPc, ulong faultPc = 0, int faultSignal = 0)
{
    /// <summary>No exit (the end of an incoming list).</summary>
    public const int None = -1;

    private sealed class Rare
    {
        public ulong FaultPc;
        public int FaultSignal;
        public Interception.InterceptedFunction? Function;
    }

    private Rare? _rare = faultPc != 0 || faultSignal != 0 ? new Rare { FaultPc = faultPc, FaultSignal = faultSignal } : null;
    private sbyte _targetMode = -1;

    public int Id { get; } = id;
    public ExitKind Kind { get; } = kind;
    public ulong TargetPc { get; } = targetPc;
    /// <summary>
    /// A tool's mode change (<see cref="Tools.BlockServices.ExitTo"/>): the mode the target is looked
    /// up and linked in, whatever the owner's (null: the owner's, as for every other exit).
    /// </summary>
    public int? TargetMode
    {
        readonly get => _targetMode < 0 ? null : _targetMode;
        set => _targetMode = value is int mode ? checked((sbyte)mode) : (sbyte)-1;
    }
    /// <summary>For <see cref="ExitKind.Fault"/>: the faulting instruction and the signal it raises.</summary>
    public readonly ulong FaultPc => _rare?.FaultPc ?? 0;
    public readonly int FaultSignal => _rare?.FaultSignal ?? 0;
    /// <summary>For <see cref="ExitKind.Intercept"/>: the replacement, valid while <see cref="Owner"/> is not flushed.</summary>
    public Interception.InterceptedFunction? Function
    {
        readonly get => _rare?.Function;
        set => (_rare ??= new Rare()).Function = value;
    }
    /// <summary>Address of the rel32 field of the branch in the fragment body that reaches this stub.</summary>
    public ulong PatchSite { get; set; }
    public ulong StubAddress { get; set; }
    public Fragment? Owner { get; set; }
    public Fragment? LinkedTo { get; set; }
    /// <summary>The id of the next exit linked to the same fragment as this one (<see cref="Fragment.FirstIncoming"/>; <see cref="None"/> at the end).</summary>
    public int NextIncoming { get; set; } = None;
}
