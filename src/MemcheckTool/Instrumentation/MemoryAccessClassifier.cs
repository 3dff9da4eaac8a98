using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// Which memory accesses of an instruction are checked, decided from Iced's table of used memory
/// (every explicit and implicit operand, with its size and read/write access). Not checked, on
/// purpose:
/// <list type="bullet">
/// <item>accesses relative to rsp without an index (the current frame, pushes, pops, calls,
/// returns): stack tracking keeps rsp and the red zone addressable, so they cannot fail; with
/// <see cref="CheckFrames"/> (definedness) the explicit ones are checked all the same, for the
/// undefined bytes of a new frame;</item>
/// <item>RIP-relative and absolute addresses (globals: only heap and stack are ever unaddressable),
/// unless <see cref="ChecksGlobalAt"/> says so (definedness: a writable global can hold an undefined
/// value only if every store there is seen);</item>
/// <item>fs/gs-relative accesses (static TLS and the thread control block: memory ld.so maps, never
/// the checked heap or stack; dynamic TLS is reached through plain pointers, which are checked);</item>
/// <item>gathers and scatters here: the index is a vector, <see cref="VsibCheck"/> checks them lane by lane;</item>
/// <item>of an XSAVE area (its size follows the feature mask), all but the header's XSTATE_BV, which every form touches.</item>
/// <item>bt/bts/btr/btc with a register bit offset: the byte touched is base + offset / 8, which an
/// address expression cannot say; checking the operand instead would report bitmaps wrongly.</item>
/// </list>
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed class MemoryAccessClassifier
{
    /// <summary>Larger operands than any x86 instruction has (fxsave: 512 bytes) mean a misdecoded size: skip.</summary>
    public const int MaxCheckedSize = 4096;

    /// <summary>Where an XSAVE area's header lies: xsave* write its XSTATE_BV, xrstor* read it, whatever the feature mask.</summary>
    private const long XsaveHeaderOffset = 512;

    private readonly InstructionInfoFactory _info = new();

    /// <summary>
    /// Whether explicit rsp-relative operands (a frame's locals and spills) are checked: a new frame
    /// is undefined (<see cref="StackTracking"/>), so its stores must define and its loads be seen.
    /// Pushes, pops, calls and returns stay unchecked: they only touch what the stack tracking keeps
    /// defined below rsp; pops are checked in the propagating mode (<see cref="CheckPops"/>) and probed
    /// in the others (<see cref="PopProbe"/>).
    /// </summary>
    public bool CheckFrames { get; set; }

    /// <summary>
    /// push of a frame's memory (push [rsp+n]: gcc passes a long double or a struct argument on from
    /// its own incoming ones so): its explicit read is checked like any frame load, so an undefined
    /// value pushed on is propagated, not defined by the push (its implicit stack write stays unchecked).
    /// </summary>
    private static bool PushedFromFrame(in Instruction instruction, UsedMemory used) =>
        instruction.Mnemonic == Mnemonic.Push && instruction.Op0Kind == OpKind.Memory && used.Access == OpAccess.Read;

    /// <summary>
    /// Whether pops' reads are checked (the propagating mode: an undefined slot sets the pending bit,
    /// so the pop's propagation gives the register the slot's shadow; mode 0 has <see cref="PopProbe"/>).
    /// </summary>
    public bool CheckPops { get; set; }

    private bool Popped(in Instruction instruction, UsedMemory used) =>
        CheckPops && PopProbe.Applies(instruction) && used.Access == OpAccess.Read;

    /// <summary>
    /// With definedness, the RIP-relative and absolute targets that are checked (as an absolute
    /// address: no base, no index), given the target and the instruction's pc: a program's globals
    /// whose page may hold undefined bytes (<see cref="Definedness.GlobalTaint"/>), so that their
    /// stores define and their reads are seen. null: none.
    /// </summary>
    public Func<ulong, ulong, bool>? ChecksGlobalAt { get; set; }

    /// <summary>
    /// With definedness, whether the fs-relative (static TLS) access of the instruction at the pc is
    /// checked: once a thread's static TLS has held an undefined byte (<see cref="Definedness.GlobalTaint"/>).
    /// null: never.
    /// </summary>
    public Func<ulong, bool>? ChecksTlsAt { get; set; }

    /// <summary>
    /// Whether an fs-relative operand is checked: <see cref="ChecksTlsAt"/> says so and its address
    /// can be formed on the fs base with leas (64-bit registers, neither of them rcx, the scratch a
    /// check may borrow, nor rsp).
    /// </summary>
    public bool ChecksTls(in Instruction instruction, in UsedMemory used) =>
        ChecksTlsAt != null && CanFormOnFsBase(used) && ChecksTlsAt(instruction.IP);

    private static bool CanFormOnFsBase(in UsedMemory used) =>
        used.AddressSize == CodeSize.Code64
        && (used.Base == Register.None || used.Base.IsGPR64() && used.Base is not (Register.RCX or Register.RSP))
        && (used.Index == Register.None || used.Index.IsGPR64() && used.Index is not Register.RCX);

    /// <summary>The absolute target of a RIP-relative or absolute operand, or null for any other.</summary>
    public static ulong? GlobalTarget(in Instruction instruction, in UsedMemory used)
    {
        if (used.Segment is Register.FS or Register.GS) return null;
        if (used.Base is Register.RIP or Register.EIP) return instruction.IPRelativeMemoryAddress;
        if (used.Base == Register.None && used.Index == Register.None)
            return used.AddressSize == CodeSize.Code32 ? (uint)used.Displacement : used.Displacement;
        return null;
    }

    /// <summary>No checked access (shared, never changed).</summary>
    public static readonly List<CheckedAccess> None = [];

    /// <summary>The checked accesses of <paramref name="instruction"/>, in operand order (possibly none: then <see cref="None"/>, which is shared).</summary>
    public List<CheckedAccess> Classify(in Instruction instruction)
    {
        var result = new List<CheckedAccess>(2);
        Classify(instruction, result);
        return result.Count == 0 ? None : result;
    }

    private UsedMemory[] _used = new UsedMemory[8];

    /// <summary>As <see cref="Classify(in Instruction)"/>, added to <paramref name="result"/> (a list the caller reuses: translation makes none per instruction).</summary>
    public void Classify(in Instruction instruction, List<CheckedAccess> result)
    {
        int count = 0;
        foreach (UsedMemory used in _info.GetInfo(instruction, InstructionInfoOptions.NoRegisterUsage).GetUsedMemory())
        {
            if (count == _used.Length) Array.Resize(ref _used, count * 2);
            _used[count++] = used;
        }
        Classify(instruction, _used.AsSpan(0, count), result);
    }

    /// <summary>As <see cref="Classify(in Instruction, List{CheckedAccess})"/>, from Iced's used memory of the instruction already at hand (<see cref="Liveness.UsedMemoryList"/>).</summary>
    public void Classify(in Instruction instruction, ReadOnlySpan<UsedMemory> usedMemory, List<CheckedAccess> result)
    {
        if (instruction.IsVsib || instruction.Code is Code.Xlat_m8) return;
        if (instruction.Mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc && instruction.Op1Kind == OpKind.Register) return;
        bool isString = instruction.IsStringInstruction;
        bool repeats = isString && (instruction.HasRepPrefix || instruction.HasRepePrefix || instruction.HasRepnePrefix);
        // rep movs/stos/lods touch rcx elements; repe/repne cmps/scas stop early: checked after they ran.
        bool countedRange = repeats && instruction.Mnemonic is Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Movsq
            or Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or Mnemonic.Stosq
            or Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq;
        AccessExtent extent = countedRange ? AccessExtent.RepeatCount : repeats ? AccessExtent.CountedAfter : AccessExtent.Fixed;

        foreach (UsedMemory used in usedMemory)
        {
            if (used.Access == OpAccess.NoMemAccess) continue;
            bool fs = used.Segment == Register.FS;
            if (fs ? !ChecksTls(instruction, used) : used.Segment == Register.GS) continue;
            Register baseRegister = used.Base, index = used.Index;
            ulong? global = fs ? null : GlobalTarget(instruction, used);
            if (global is ulong target)
            {
                if (ChecksGlobalAt == null || !ChecksGlobalAt(target, instruction.IP)) continue;
                (baseRegister, index) = (Register.None, Register.None);
            }
            if (used.Base is Register.RSP or Register.ESP && used.Index == Register.None && !isString
                && (!CheckFrames || instruction.StackPointerIncrement != 0 && !PushedFromFrame(instruction, used) && !Popped(instruction, used))) continue;
            if (!index.IsGPR() && index != Register.None) continue;
            // Repeated string operands have no size in Iced's table (they cover a run): the element's.
            int size = isString && used.MemorySize == MemorySize.Unknown ? instruction.MemorySize.GetSize() : used.MemorySize.GetSize();
            long extra = 0;
            if (used.MemorySize is MemorySize.Xsave or MemorySize.Xsave64)
            {
                // The area's size follows the requested-feature mask and XCR0: check the 8 bytes
                // (XSTATE_BV) every form of xsave/xrstor touches.
                (size, extra) = (8, XsaveHeaderOffset);
            }
            if (size <= 0 || size > MaxCheckedSize) continue;
            bool write = used.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite;
            Register mask = instruction.OpMask;
            bool masked = mask != Register.None && !instruction.IsBroadcast;
            int elementSize = masked ? used.MemorySize.GetElementSize() : 0;
            if (VectorMaskElement(instruction) is int vectorElement)
            {
                // AVX vmaskmov / SSE maskmovdqu: the mask is a vector operand (its elements' sign bits).
                (mask, masked, elementSize) = (instruction.Op1Register, true, vectorElement);
            }
            // 32-bit addressing (0x67): the displacement wraps at 32 bits, lea then sees it signed.
            long displacement = (global is ulong absolute ? (long)absolute
                : used.AddressSize == CodeSize.Code32 ? (int)(uint)used.Displacement : (long)used.Displacement) + extra;
            result.Add(new CheckedAccess(
                baseRegister, index, index == Register.None ? 1 : used.Scale, displacement, size, write,
                extent,
                masked ? mask : Register.None,
                elementSize,
                IsRead: used.Access is not (OpAccess.Write or OpAccess.CondWrite))
            {
                Packed = masked && IsPacked(instruction.Mnemonic),
                FsRelative = fs,
            });
        }
    }

    /// <summary>Compress stores and expand loads: the mask says how many elements, packed at the start.</summary>
    private static bool IsPacked(Mnemonic mnemonic) => mnemonic is Mnemonic.Vpcompressb or Mnemonic.Vpcompressw or Mnemonic.Vpcompressd
        or Mnemonic.Vpcompressq or Mnemonic.Vcompressps or Mnemonic.Vcompresspd or Mnemonic.Vpexpandb or Mnemonic.Vpexpandw
        or Mnemonic.Vpexpandd or Mnemonic.Vpexpandq or Mnemonic.Vexpandps or Mnemonic.Vexpandpd;

    /// <summary>For the masked moves whose mask is a vector register (operand 1): the element size its sign bits select.</summary>
    private static int? VectorMaskElement(in Instruction instruction) => instruction.Mnemonic switch
    {
        Mnemonic.Vmaskmovps or Mnemonic.Vpmaskmovd => 4,
        Mnemonic.Vmaskmovpd or Mnemonic.Vpmaskmovq => 8,
        Mnemonic.Maskmovdqu or Mnemonic.Vmaskmovdqu => 1,
        _ => null,
    };
}
