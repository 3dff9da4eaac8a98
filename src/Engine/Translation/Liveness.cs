using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// Backward liveness of the general registers and the status flags over a decoded block, from
/// Iced's tables of used registers and flags. At an exit, what the code it leads to reads first:
/// the translator passes that per direct exit when it has looked ahead (<see cref="LiveAtEntry"/>),
/// else everything is live there (a side exit's target may read anything), but for the flags at
/// calls and returns (<see cref="FlagsDeadAtTransfer"/>). The access checks
/// use it to borrow a dead register instead of spilling one, and to compare with cmp/jne when the
/// flags are dead. It also keeps, per instruction, the general registers it uses and writes and
/// whether it sets rsp explicitly: one look at Iced's tables per instruction for every pass of the
/// translation (the held scratch, the check planner), which asked them again and again before.
/// Iced's used registers and used memory of each instruction are kept as they came (one
/// <c>GetInfo</c> per instruction per translation): the tool's classifier and masks read them.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed class Liveness
{
    private const int AllGprs = 0xffff;
    /// <summary>In an exit's packed facts (<see cref="LiveAtEntry"/>): the status flags may be read.</summary>
    public const int FlagsBit = 1 << 16;
    /// <summary>An exit's packed facts when nothing is known of its target: every register and the flags live.</summary>
    public const int AllLive = AllGprs | FlagsBit;
    private const RflagsBits StatusFlags = RflagsBits.OF | RflagsBits.SF | RflagsBits.ZF | RflagsBits.AF | RflagsBits.CF | RflagsBits.PF;
    // Never handed out: rsp is the stack, rbp is what the callstack walker reads at a report.
    private const int NeverFree = (1 << 4) | (1 << 5);

    private readonly InstructionInfoFactory _info = new();
    private int[] _liveBefore = [];
    private bool[] _flagsDeadBefore = [];
    private int[] _used = [];
    private int[] _written = [];
    private bool[] _setsStackPointer = [];
    // Iced's RflagsRead | RflagsModified per instruction: each asks GetRflagsInfo again.
    private RflagsBits[] _flagsTouched = [];
    private int _count;
    // What the exit after the last instruction (its fall-through) reads: live registers, dead flags.
    private int _liveAfterLast = AllGprs;
    private bool _flagsDeadAfterLast;
    // Iced's lists, copied flat: instruction i's are [start[i], start[i + 1]).
    private int[] _registerStart = [0];
    private int[] _memoryStart = [0];
    private UsedRegister[] _registers = new UsedRegister[256];
    private UsedMemory[] _memory = new UsedMemory[64];

    public void Analyze(IReadOnlyList<Instruction> block)
    {
        if (block is List<Instruction> list) Analyze(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list), default);
        else Analyze([.. block], default);
    }

    /// <summary>
    /// As <see cref="Analyze(IReadOnlyList{Instruction})"/> over the instructions by reference: the
    /// list's interface indexer copied each 40-byte Instruction twice per translation.
    /// </summary>
    /// <param name="exits">
    /// Empty (everything live at every exit), or one packed fact (<see cref="LiveAtEntry"/>) per
    /// instruction for the target of a jcc or direct jmp there, and one more, last, for the
    /// fall-through after the block's last instruction (<see cref="AllLive"/> where not known).
    /// </param>
    public void Analyze(ReadOnlySpan<Instruction> block, ReadOnlySpan<int> exits)
    {
        int n = block.Length;
        _count = n;
        if (_liveBefore.Length < n)
        {
            _liveBefore = new int[n];
            _flagsDeadBefore = new bool[n];
            _used = new int[n];
            _written = new int[n];
            _setsStackPointer = new bool[n];
            _flagsTouched = new RflagsBits[n];
            _registerStart = new int[n + 1];
            _memoryStart = new int[n + 1];
        }
        int registerCount = 0, memoryCount = 0;
        for (int i = 0; i < n; i++)
        {
            InstructionInfo info = _info.GetInfo(in block[i]);
            _registerStart[i] = registerCount;
            _memoryStart[i] = memoryCount;
            registerCount = Append(ref _registers, registerCount, info.GetUsedRegisters());
            memoryCount = Append(ref _memory, memoryCount, info.GetUsedMemory());
        }
        _registerStart[n] = registerCount;
        _memoryStart[n] = memoryCount;
        int after = exits.IsEmpty ? AllLive : exits[n];
        int live = after & AllGprs;
        RflagsBits liveFlags = (after & FlagsBit) != 0 ? StatusFlags : 0;
        _liveAfterLast = live;
        _flagsDeadAfterLast = liveFlags == 0;
        for (int i = n - 1; i >= 0; i--)
        {
            ref readonly Instruction ins = ref block[i];
            if (ins.FlowControl != FlowControl.Next)
            {
                int target = exits.IsEmpty ? AllLive : exits[i];
                RflagsBits targetFlags = (target & FlagsBit) != 0 ? StatusFlags : 0;
                if (ins.FlowControl == FlowControl.ConditionalBranch)
                {
                    // Either way on: what the fall-through reads (from the instructions after) or the target.
                    live |= target & AllGprs;
                    liveFlags |= targetFlags;
                }
                else if (ins.FlowControl == FlowControl.UnconditionalBranch)
                {
                    live = target & AllGprs;
                    liveFlags = targetFlags;
                }
                else
                {
                    live = AllGprs;
                    liveFlags = FlagsDeadAtTransfer(ins) ? 0 : StatusFlags;
                }
            }
            int uses = 0, kills = 0, all = 0, written = 0;
            bool setsStackPointer = ins.Mnemonic is Mnemonic.Leave or Mnemonic.Enter;
            foreach (UsedRegister used in UsedRegisterList(i))
            {
                bool writes = used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite;
                // rsp, esp or sp written other than by the implicit step of push/pop/call/ret.
                if (writes && used.Register is Register.RSP or Register.ESP or Register.SP && ins.StackPointerIncrement == 0) setsStackPointer = true;
                int index = GprIndex(used.Register);
                if (index < 0) continue;
                all |= 1 << index;
                if (writes) written |= 1 << index;
                if (used.Access is OpAccess.Write && used.Register is >= Register.EAX and <= Register.R15) kills |= 1 << index;
                else if (used.Access != OpAccess.NoMemAccess) uses |= 1 << index;
            }
            _used[i] = all;
            _written[i] = written;
            _setsStackPointer[i] = setsStackPointer;
            live = (live & ~kills) | uses;
            RflagsBits modified = ins.RflagsModified, read = ins.RflagsRead;
            _flagsTouched[i] = modified | read;
            liveFlags = (liveFlags & ~modified) | read;
            _liveBefore[i] = live;
            _flagsDeadBefore[i] = (liveFlags & StatusFlags) == 0;
        }
    }

    /// <summary>
    /// What code entered at the start of <paramref name="code"/> (decoded ahead of an exit, up to and
    /// including its first control transfer, or less) may read before writing it, packed: bit r for
    /// general register r (rax = 0), <see cref="FlagsBit"/> for the status flags. A register is dead
    /// only when an instruction of <paramref name="code"/> writes all of it (a 32- or 64-bit write)
    /// before any reads it; past the end everything left is live.
    /// </summary>
    public int LiveAtEntry(ReadOnlySpan<Instruction> code)
    {
        int live = 0, killed = 0;
        foreach (ref readonly Instruction ins in code)
        {
            int reads = 0, kills = 0;
            foreach (UsedRegister used in _info.GetInfo(ins, InstructionInfoOptions.NoMemoryUsage).GetUsedRegisters())
            {
                int index = GprIndex(used.Register);
                if (index < 0) continue;
                if (used.Access is OpAccess.Write && used.Register is >= Register.EAX and <= Register.R15) kills |= 1 << index;
                else if (used.Access != OpAccess.NoMemAccess) reads |= 1 << index;
            }
            live |= reads & ~killed;
            killed |= kills & ~live;
        }
        live |= AllGprs & ~killed;
        return FlagsLiveAtEntry(code) ? live | FlagsBit : live;
    }

    /// <summary>
    /// Whether code entered at the start of <paramref name="block"/> may read a status flag before
    /// writing it: false only when every status flag is written (by instructions that always write it:
    /// not a shift or rotate by cl, which leaves the flags alone at a count of 0) before any is read
    /// and before any way out but a call or ret. An indirect jmp's lookup overwrites the guest's flags
    /// after saving them, and only fragments for which this is true restore them
    /// (<see cref="Emission.IndirectBranchEmitter.RestoringEntry"/>).
    /// </summary>
    public static bool FlagsLiveAtEntry(ReadOnlySpan<Instruction> block)
    {
        RflagsBits written = 0;
        foreach (ref readonly Instruction ins in block)
        {
            if ((ins.RflagsRead & StatusFlags & ~written) != 0) return true;
            bool byCount = ins.OpCount == 2 && ins.Op1Kind == OpKind.Register && ins.Op1Register == Register.CL
                && ins.Mnemonic is Mnemonic.Shl or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Sal or Mnemonic.Rol or Mnemonic.Ror or Mnemonic.Rcl or Mnemonic.Rcr;
            if (!byCount) written |= ins.RflagsModified & StatusFlags;
            if (written == StatusFlags) return false;
            if (ins.FlowControl != FlowControl.Next) return !FlagsDeadAtTransfer(ins);
        }
        return true;
    }

    /// <summary>
    /// Whether the status flags are dead at control transfer <paramref name="ins"/>: a near call or
    /// ret. The ABI passes no flags across them ("not preserved across calls"), and the translation
    /// of a ret and of an indirect call overwrites them already (the return prediction's compare,
    /// the inline lookup), so checks before them may use cmp and skip saving the flags: sqlite's
    /// code 5.6% smaller, its run ~7% faster. Jumps keep them live (a switch's targets, a jcc's).
    /// </summary>
    private static bool FlagsDeadAtTransfer(in Instruction ins) =>
        ins.Code is Code.Retnq or Code.Retnq_imm16 or Code.Call_rm64 or Code.Call_rel32_64;

    /// <summary>Iced's used registers of instruction <paramref name="i"/> (valid until the next <see cref="Analyze"/>).</summary>
    public ReadOnlySpan<UsedRegister> UsedRegisterList(int i) => _registers.AsSpan(_registerStart[i], _registerStart[i + 1] - _registerStart[i]);

    /// <summary>Iced's used memory of instruction <paramref name="i"/> (valid until the next <see cref="Analyze"/>).</summary>
    public ReadOnlySpan<UsedMemory> UsedMemoryList(int i) => _memory.AsSpan(_memoryStart[i], _memoryStart[i + 1] - _memoryStart[i]);

    private static int Append(ref UsedRegister[] store, int count, InstructionInfo.UsedRegisterIterator items)
    {
        foreach (UsedRegister item in items)
        {
            if (count == store.Length) Array.Resize(ref store, store.Length * 2);
            store[count++] = item;
        }
        return count;
    }

    private static int Append(ref UsedMemory[] store, int count, InstructionInfo.UsedMemoryIterator items)
    {
        foreach (UsedMemory item in items)
        {
            if (count == store.Length) Array.Resize(ref store, store.Length * 2);
            store[count++] = item;
        }
        return count;
    }

    /// <summary>The flags instruction <paramref name="i"/> reads or modifies (Iced's RflagsRead | RflagsModified).</summary>
    public RflagsBits FlagsTouched(int i) => _flagsTouched[i];

    /// <summary>The general registers instruction <paramref name="i"/> reads or writes, as a mask (bit 0 rax ... bit 15 r15).</summary>
    public int UsedRegisters(int i) => _used[i];

    /// <summary>The general registers instruction <paramref name="i"/> writes (partly or conditionally too), as a mask.</summary>
    public int WrittenRegisters(int i) => _written[i];

    /// <summary>Whether instruction <paramref name="i"/> sets rsp explicitly (<see cref="StackPointerWrites.IsExplicit"/>).</summary>
    public bool SetsStackPointer(int i) => _setsStackPointer[i];

    /// <summary>The mask bit of a general register of any size (0 for others).</summary>
    public static int RegisterBit(Register register) => GprIndex(register) is int index and >= 0 ? 1 << index : 0;

    /// <summary>True when no status flag is read before being written again, from just before instruction <paramref name="i"/>.</summary>
    public bool FlagsDeadBefore(int i) => _flagsDeadBefore[i];

    /// <summary>A 64-bit register whose value is dead just before instruction <paramref name="i"/>, preferring rcx; <see cref="Register.None"/> if none.</summary>
    public Register FreeRegisterBefore(int i) => Free(_liveBefore[i]);

    private static Register Free(int live)
    {
        int free = ~live & AllGprs & ~NeverFree;
        if (free == 0) return Register.None;
        if ((free & (1 << 1)) != 0) return Register.RCX;
        return Register.RAX + System.Numerics.BitOperations.TrailingZeroCount(free);
    }

    /// <summary>As <see cref="FlagsDeadBefore"/>, just after instruction <paramref name="i"/> (after the last: as its fall-through's facts say).</summary>
    public bool FlagsDeadAfter(int i) => i + 1 < _count ? _flagsDeadBefore[i + 1] : _flagsDeadAfterLast;

    /// <summary>As <see cref="FreeRegisterBefore"/>, just after instruction <paramref name="i"/> (after the last: as its fall-through's facts say).</summary>
    public Register FreeRegisterAfter(int i) => i + 1 < _count ? FreeRegisterBefore(i + 1) : Free(_liveAfterLast);

    private static int GprIndex(Register register) =>
        (uint)register < (uint)GprIndices.Length ? GprIndices[(int)register] : -1;

    // By register: Iced's GetFullRegister asked once per register, not per used register per instruction.
    private static readonly sbyte[] GprIndices = MakeGprIndices();

    private static sbyte[] MakeGprIndices()
    {
        var indices = new sbyte[256];   // every Register value (they fit a byte)
        for (int r = 0; r < indices.Length; r++)
        {
            var register = (Register)r;
            Register full = register.IsGPR() ? register.Full() : Register.None;
            indices[r] = (sbyte)(full is >= Register.RAX and <= Register.R15 ? full - Register.RAX : -1);
        }
        return indices;
    }
}
