using Checker.Engine.CodeCache;
using Checker.Engine.Memory;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.Engine.Dispatch;

/// <summary>
/// State translation for synchronous faults: turns what the fault handler recorded about a
/// code-cache pc into the <see cref="GuestFault"/> the program would have seen natively. The
/// application pc comes from the fragment's instruction map; registers the engine held are put
/// back (the held check scratch from gs:[HeldScratch], rcx spilled around a flag-free probe); the
/// faulting access is the memory operand of the application instruction that matches si_addr
/// (or, for a probe of the shadow, the operand whose shadow it was reading; for a general
/// protection fault, the operand with a non-canonical address).
/// </summary>
public sealed unsafe class FaultAnalyzer(TranslationCache cache, GuestMappings mappings, Tools.Tool tool)
{
    private readonly InstructionInfoFactory _info = new();

    /// <summary>A fault the handler caught inside the code cache (ExitIds.FaultInCache).</summary>
    public GuestFault InCache(ContextBlock* context)
    {
        ulong[] registers = Registers(context);
        ulong cachePc = context->FaultCachePc;
        Fragment? fragment;
        lock (cache.Lock) fragment = cache.FindByCachePc(cachePc);
        ulong pc;
        if (fragment != null)
        {
            pc = fragment.ApplicationPcAt(cache.InstructionMaps, cachePc);
            if (fragment.HeldRegisterAt(cache.InstructionMaps, cachePc) is int held and >= 0)
                registers[held] = *(ulong*)((byte*)context + ContextOffsets.HeldScratch);
            tool.RestoreBorrowedRegisters(cachePc, context, registers);
        }
        else if (tool.RoutineFaultPc(context) is ulong sitePc)
        {
            pc = sitePc;
        }
        else
        {
            return new GuestFault(context->FaultSignal, context->FaultCode, 0, context->FaultAddress, registers, null,
                $"in engine code at cache address 0x{cachePc:x}");
        }
        int signal = context->FaultSignal;
        FaultAccess? access = signal is Signals.SIGSEGV or Signals.SIGBUS
            ? AccessOf(pc, registers, context->GuestFsBase, context->GuestGsBase, context->FaultAddress, context->FaultError)
            : null;
        // A probe of the shadow stands for the application's own access: report its address, as the access itself would.
        ulong address = InShadow(context->FaultAddress) && access is { } a ? a.Address : context->FaultAddress;
        int code = InShadow(context->FaultAddress) ? GuestFault.SegvMapErr : context->FaultCode;
        return new GuestFault(signal, code, pc, address, registers, access, Describe(pc));
    }

    /// <summary>An instruction that raises a signal by itself (ud2, int3, hlt, an undecodable byte).</summary>
    public GuestFault AtInstruction(ContextBlock* context, int signal, ulong pc)
    {
        const int IllIllopn = 2, TrapBrkpt = 1;
        return new GuestFault(signal, signal == Signals.SIGTRAP ? TrapBrkpt : IllIllopn, pc, pc, Registers(context), null, Describe(pc));
    }

    /// <summary>A bad guest pointer met by a replaced function (posix_memalign's out parameter, the return address): the function's own fault.</summary>
    public GuestFault InReplacedFunction(ContextBlock* context, ulong functionPc, GuestMemoryFault fault) =>
        new(Signals.SIGSEGV, GuestFault.SegvMapErr, functionPc, fault.Address, Registers(context),
            new FaultAccess(fault.Write ? FaultAccessKind.Write : FaultAccessKind.Read, fault.Address, fault.Size), "in the replaced function");

    /// <summary>A jump or call to memory the guest cannot execute.</summary>
    public GuestFault Execute(ContextBlock* context, GuestCodeFault fault) =>
        new(Signals.SIGSEGV, fault.Mapped ? GuestFault.SegvAccErr : GuestFault.SegvMapErr, fault.Pc, fault.Address, Registers(context),
            new FaultAccess(FaultAccessKind.Execute, fault.Address, 1),
            fault.Pc == fault.Address ? "no executable code there" : Describe(fault.Pc));

    private static ulong[] Registers(ContextBlock* context)
    {
        var registers = new ulong[16];
        for (int r = 0; r < 16; r++) registers[r] = context->Gpr[r];
        return registers;
    }

    private bool InShadow(ulong address) => tool.IsProbeAddress(address);

    private FaultAccess? AccessOf(ulong pc, ulong[] registers, ulong fsBase, ulong gsBase, ulong siAddr, ulong error)
    {
        if (!TryDecode(pc, out Instruction ins)) return null;
        var candidates = new List<FaultAccess>();
        foreach (UsedMemory memory in _info.GetInfo(ins).GetUsedMemory())
        {
            Instruction decoded = ins;
            bool ok = memory.TryGetVirtualAddress(0, out ulong address, (Register register, int _, int _, out ulong value) =>
            {
                value = RegisterValue(register, registers, fsBase, gsBase, decoded);
                return register is not (>= Register.XMM0 and <= Register.ZMM31);
            });
            if (!ok) continue;
            int size = Math.Max(1, memory.MemorySize.GetSize());
            FaultAccessKind kind = memory.Access switch
            {
                OpAccess.Read or OpAccess.CondRead => FaultAccessKind.Read,
                OpAccess.Write or OpAccess.CondWrite => FaultAccessKind.Write,
                // Read-modify-write: the page-fault error code says which half faulted.
                _ => (error & 2) != 0 || siAddr == 0 ? FaultAccessKind.Write : FaultAccessKind.Read,
            };
            candidates.Add(new FaultAccess(kind, address, size));
        }
        if (candidates.Count == 0) return null;
        bool Covers(FaultAccess a, ulong at) => at >= a.Address && at - a.Address < (ulong)a.Size;
        bool Shadows(FaultAccess a, ulong at) => tool.ProbeCovers(at, a.Address, a.Size);
        static bool NonCanonical(ulong a) => a >= 0x0000_8000_0000_0000 && a < 0xffff_8000_0000_0000;
        if (InShadow(siAddr))
            return candidates.FirstOrDefault(a => Shadows(a, siAddr)) is { Size: > 0 } s ? s : candidates[0];
        if (siAddr != 0)
            return candidates.FirstOrDefault(a => Covers(a, siAddr)) is { Size: > 0 } c ? c
                : candidates.FirstOrDefault(a => (a.Address >> 12) == (siAddr >> 12) || ((a.Address + (ulong)a.Size - 1) >> 12) == (siAddr >> 12)) is { Size: > 0 } p ? p
                : candidates[0];
        return candidates.FirstOrDefault(a => NonCanonical(a.Address) || NonCanonical(a.Address + (ulong)a.Size - 1)) is { Size: > 0 } n ? n : candidates[0];
    }

    private static ulong RegisterValue(Register register, ulong[] registers, ulong fsBase, ulong gsBase, in Instruction ins)
    {
        if (register == Register.FS) return fsBase;
        if (register == Register.GS) return gsBase;
        if (register is Register.RIP) return ins.NextIP;
        if (register is Register.EIP) return (uint)ins.NextIP;
        if (!register.IsGPR()) return 0;
        ulong value = registers[register.Full() - Register.RAX];
        return register.Bytes() switch
        {
            4 => (uint)value,
            2 => (ushort)value,
            1 when register is >= Register.AH and <= Register.BH => (byte)(value >> 8),
            1 => (byte)value,
            _ => value,
        };
    }

    private bool TryDecode(ulong pc, out Instruction ins)
    {
        ulong available = Math.Min(mappings.ExecutableBytesFrom(pc), 15);
        ins = default;
        if (available == 0) return false;
        var decoder = Decoder.Create(64, new GuestCodeReader(pc) { Limit = pc + available }, pc);
        decoder.Decode(out ins);
        return ins.Code != Code.INVALID;
    }

    /// <summary>The instruction at <paramref name="pc"/> as text with its bytes (for the death note, which adds where it is).</summary>
    public string Describe(ulong pc)
    {
        ulong available = Math.Min(mappings.ExecutableBytesFrom(pc), 15);
        if (available == 0) return "no executable code there";
        TryDecode(pc, out Instruction ins);
        int length = (int)Math.Min((ulong)Math.Max(ins.Length, 1), available);
        string bytes = Convert.ToHexString(GuestCodeReader.Bytes(pc, length)).ToLowerInvariant();
        string text = ins.Code == Code.INVALID ? "(invalid)" : ins.ToString();
        return $"'{text}' (bytes {bytes})";
    }
}
