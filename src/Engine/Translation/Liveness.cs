using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// Backward liveness of the general registers and the status flags over a decoded block, from
/// Iced's tables of used registers and flags. Everything is live at every exit (a side exit's
/// target may read anything), so only facts inside straight-line runs are used. The access checks
/// use it to borrow a dead register instead of spilling one, and to compare with cmp/jne when the
/// flags are dead. It also keeps, per instruction, the general registers it uses and writes and
/// whether it sets rsp explicitly: one look at Iced's tables per instruction for every pass of the
/// translation (the held scratch, the check planner), which asked them again and again before.
/// </summary>
public sealed class Liveness
{
    private const int AllGprs = 0xffff;
    private const RflagsBits StatusFlags = RflagsBits.OF | RflagsBits.SF | RflagsBits.ZF | RflagsBits.AF | RflagsBits.CF | RflagsBits.PF;
    // Never handed out: rsp is the stack, rbp is what the callstack walker reads at a report.
    private const int NeverFree = (1 << 4) | (1 << 5);

    private readonly InstructionInfoFactory _info = new();
    private int[] _liveBefore = [];
    private bool[] _flagsDeadBefore = [];
    private int[] _used = [];
    private int[] _written = [];
    private bool[] _setsStackPointer = [];
    private int _count;

    public void Analyze(IReadOnlyList<Instruction> block)
    {
        int n = block.Count;
        _count = n;
        if (_liveBefore.Length < n)
        {
            _liveBefore = new int[n];
            _flagsDeadBefore = new bool[n];
            _used = new int[n];
            _written = new int[n];
            _setsStackPointer = new bool[n];
        }
        int live = AllGprs;
        RflagsBits liveFlags = StatusFlags;
        for (int i = n - 1; i >= 0; i--)
        {
            Instruction ins = block[i];
            if (ins.FlowControl != FlowControl.Next)
            {
                live = AllGprs;
                liveFlags = StatusFlags;
            }
            int uses = 0, kills = 0, all = 0, written = 0;
            bool setsStackPointer = ins.Mnemonic is Mnemonic.Leave or Mnemonic.Enter;
            foreach (UsedRegister used in _info.GetInfo(ins, InstructionInfoOptions.NoMemoryUsage).GetUsedRegisters())
            {
                bool writes = used.Access is OpAccess.Write or OpAccess.ReadWrite or OpAccess.CondWrite or OpAccess.ReadCondWrite;
                // rsp, esp or sp written other than by the implicit step of push/pop/call/ret.
                if (writes && used.Register is Register.RSP or Register.ESP or Register.SP && ins.StackPointerIncrement == 0) setsStackPointer = true;
                int index = GprIndex(used.Register);
                if (index < 0) continue;
                all |= 1 << index;
                if (writes) written |= 1 << index;
                if (used.Access is OpAccess.Write && used.Register.GetSize() >= 4) kills |= 1 << index;
                else if (used.Access != OpAccess.NoMemAccess) uses |= 1 << index;
            }
            _used[i] = all;
            _written[i] = written;
            _setsStackPointer[i] = setsStackPointer;
            live = (live & ~kills) | uses;
            liveFlags = (liveFlags & ~ins.RflagsModified) | ins.RflagsRead;
            _liveBefore[i] = live;
            _flagsDeadBefore[i] = (liveFlags & StatusFlags) == 0;
        }
    }

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
    public Register FreeRegisterBefore(int i)
    {
        int free = ~_liveBefore[i] & AllGprs & ~NeverFree;
        if (free == 0) return Register.None;
        if ((free & (1 << 1)) != 0) return Register.RCX;
        return Register.RAX + System.Numerics.BitOperations.TrailingZeroCount(free);
    }

    /// <summary>As <see cref="FlagsDeadBefore"/>, just after instruction <paramref name="i"/> (false after the last: its exit may read them).</summary>
    public bool FlagsDeadAfter(int i) => i + 1 < _count && _flagsDeadBefore[i + 1];

    /// <summary>As <see cref="FreeRegisterBefore"/>, just after instruction <paramref name="i"/> (none after the last).</summary>
    public Register FreeRegisterAfter(int i) => i + 1 < _count ? FreeRegisterBefore(i + 1) : Register.None;

    private static int GprIndex(Register register)
    {
        if (!register.IsGPR()) return -1;
        Register full = register.GetFullRegister();
        return full is >= Register.RAX and <= Register.R15 ? full - Register.RAX : -1;
    }
}
