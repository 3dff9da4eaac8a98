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
    /// <summary>
    /// A lazily bound PLT slot that still points at the resolver's path (<see cref="ExitStub.TargetPc"/>):
    /// on there, never linked; the stub's fragment is dropped, to be translated again once bound.
    /// </summary>
    UnboundSlot,
}

/// <summary>
/// One exit of a fragment. Its stub records the exit's id in the context block and jumps to the
/// exit routine; a direct exit is later linked by rewriting the rel32 (within an aligned quadword) at <see cref="PatchSite"/>
/// from the stub to the target fragment.
/// <para>
/// Every fragment has a few (cc1plus: 545,000 exits) and they live as long as it does, so an exit
/// is a value in <see cref="TranslationCache"/>'s fixed chunks, addressed by its id, not an object:
/// as objects they were 40% of what translation allocated, each one copied by the young
/// collections and marked by the full ones. The value holds no reference either (32 bytes, was 64
/// with an object for the rare fields and the fragments by reference: 30 MB on cc1plus, and
/// chunks the collector had to scan; 40 with its own id, the largest type in the managed heap:
/// bench/tools/heap-census.sh): its fragment and link target are fragment numbers
/// (<see cref="Fragment.Number"/>, <see cref="TranslationCache.FragmentAt"/>), the patch site a
/// distance back from the stub, the id is where it is stored (callers have it), the kind and target
/// mode share a word with the target pc (canonical: 48 bits) and the continuation's distance one with
/// the stub's address (a host address below 2^47), and what only fault and intercept exits need is in the cache's
/// side table (<see cref="TranslationCache.FaultOf"/>, <see cref="TranslationCache.FunctionOf"/>).
/// The exits linked to one fragment form a list of ids through <see cref="NextIncoming"/>.
/// <see cref="TranslationCache.Exit"/> hands out copies; the cache changes the stored values.
/// </para>
/// </summary>
public struct ExitStub
{
    /// <summary>No exit (the end of an incoming list).</summary>
    public const int None = -1;
    /// <summary>No fragment (<see cref="OwnerNumber"/>, <see cref="LinkedNumber"/>).</summary>
    public const int NoFragment = -1;

    private const int AddressBits = 48;
    private const ulong AddressMask = (1UL << AddressBits) - 1;

    // TargetPc's low 48 bits | Kind << 48 | (TargetMode + 1) << 56 (0: none). The pc reads back
    // sign-extended from bit 47: every canonical address, including the kernel-half ones a direct
    // branch below 2 GB wraps to (guest code lies below 2^46, so its targets are all canonical).
    private ulong _target;
    // StubAddress | ContinuationBack << 48.
    private ulong _stub;
    // Fragment numbers + 1 (0: none, as a fresh value has).
    private int _owner;
    private int _linkedTo;
    // StubAddress - PatchSite (0: no patch site).
    private int _patchBack;
    // The next incoming exit's id + 1 (0: none, as a fresh value has).
    private int _nextIncoming;

    public ExitStub(ExitKind kind, ulong targetPc) => _target = (targetPc & AddressMask) | (ulong)kind << AddressBits;

    public readonly ulong TargetPc => (ulong)((long)(_target << (64 - AddressBits)) >> (64 - AddressBits));

    public readonly ExitKind Kind => (ExitKind)(byte)(_target >> AddressBits);

    public ulong StubAddress
    {
        readonly get => _stub & AddressMask;
        set
        {
            if (value > AddressMask) throw new ArgumentOutOfRangeException(nameof(value), $"exit stub 0x{value:x} beyond 2^48");
            _stub = (_stub & ~AddressMask) | value;
        }
    }

    /// <summary>The id of the next exit linked to the same fragment as this one (<see cref="Fragment.FirstIncoming"/>; <see cref="None"/> at the end).</summary>
    public int NextIncoming
    {
        readonly get => _nextIncoming - 1;
        set => _nextIncoming = value + 1;
    }

    /// <summary>
    /// For a call's continuation (<see cref="Translation.ReturnPrediction"/>): how far before
    /// <see cref="PatchSite"/> the call's store of the continuation address has its imm32 (0: not one).
    /// Linking the exit points that imm32 at the target's entry too; unlinking puts the exit's jmp back.
    /// </summary>
    public ushort ContinuationBack
    {
        readonly get => (ushort)(_stub >> AddressBits);
        set => _stub = (_stub & AddressMask) | (ulong)value << AddressBits;
    }

    /// <summary>The address of the call's continuation imm32 (0: none).</summary>
    public readonly ulong ContinuationField => ContinuationBack == 0 || _patchBack == 0 ? 0 : PatchSite - ContinuationBack;

    /// <summary>
    /// A tool's mode change (<see cref="Tools.BlockServices.ExitTo"/>): the mode the target is looked
    /// up and linked in, whatever the owner's (null: the owner's, as for every other exit).
    /// </summary>
    public int? TargetMode
    {
        readonly get => (byte)(_target >> 56) is var stored and not 0 ? stored - 1 : null;
        set => _target = (_target & ~(0xFFUL << 56)) | (value is int mode ? (ulong)checked((byte)(mode + 1)) << 56 : 0);
    }

    /// <summary>Address of the rel32 field of the branch in the fragment body that reaches this stub (0: none; set after <see cref="StubAddress"/>).</summary>
    public ulong PatchSite
    {
        readonly get => _patchBack == 0 ? 0 : StubAddress - (ulong)(uint)_patchBack;
        set => _patchBack = value == 0 ? 0 : checked((int)(StubAddress - value));
    }

    /// <summary>The number of the fragment this exit leaves (<see cref="NoFragment"/> while it is being built).</summary>
    public int OwnerNumber
    {
        readonly get => _owner - 1;
        set => _owner = value + 1;
    }

    /// <summary>The number of the fragment this exit jumps straight to (<see cref="NoFragment"/>: not linked).</summary>
    public int LinkedNumber
    {
        readonly get => _linkedTo - 1;
        set => _linkedTo = value + 1;
    }

    public readonly bool IsLinked => _linkedTo != 0;
}
