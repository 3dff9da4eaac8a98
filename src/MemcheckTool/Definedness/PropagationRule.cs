using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>How an instruction's result shadow follows from its inputs' (the small set of rules the table maps mnemonics to).</summary>
public enum PropagationRule
{
    /// <summary>Any undefined input bit makes every output undefined (the default: never misses, may over-report at a use).</summary>
    Pessimistic,
    /// <summary>Nothing is computed (branches, fences, nops, prefetches): only the significant uses are checked.</summary>
    None,
    /// <summary>Outputs are defined whatever the inputs (cpuid, rdtsc, xgetbv).</summary>
    Define,
    /// <summary>The destination gets the source's shadow, zero-extended (mov, movzx, movd/movq, vector moves and loads).</summary>
    Move,
    /// <summary>As <see cref="Move"/>, sign-extended (movsx, movsxd): an undefined top bit spreads.</summary>
    MoveSignExtend,
    /// <summary>movss/movsd: a register source replaces only the low element; a memory source zero-extends.</summary>
    MoveLowElement,
    /// <summary>Bitwise and (and, test, pand, andps...): a bit defined 0 in either input makes the result bit defined.</summary>
    And,
    /// <summary>Bitwise or: a bit defined 1 in either input makes the result bit defined.</summary>
    Or,
    /// <summary>Bitwise xor (and other bit-for-bit ops): the union; xor of a register with itself is defined.</summary>
    Xor,
    /// <summary>andn / pandn: and with the first source inverted.</summary>
    AndNot,
    /// <summary>Integer arithmetic with carries (add, sub, adc, sbb, inc, dec, neg, cmp, imul): an undefined bit makes every higher bit undefined (Valgrind's Left).</summary>
    Arith,
    /// <summary>Shifts and rotates (shld/shrd: the source's bits shift in): the shadow moves with the bits; an undefined count makes all undefined.</summary>
    Shift,
    /// <summary>cbw/cwde/cdqe/cwd/cdq/cqo: the top bit's shadow fills the extension.</summary>
    SignFill,
    /// <summary>Vector ops that work element by element: an element is undefined if any input element bit is.</summary>
    Elementwise,
    /// <summary>Scalar vector ops (addsd...): the low element from the inputs' low elements, the rest from the first source.</summary>
    Scalar,
    /// <summary>
    /// Scalar ops of one input (cvtsi2ss, cvtss2sd, sqrtsd, roundss, rcpss...): the low element
    /// undefined when any bit of the input's low element is, the rest of the register from the
    /// destination (legacy SSE) or the first source (VEX/EVEX); into a general register (cvttsd2si)
    /// the whole result so. The destination's own low element is no input.
    /// </summary>
    ScalarUnary,
    /// <summary>
    /// Packed conversions between 4- and 8-byte elements (cvtps2pd, cvtdq2pd, cvtpd2ps, cvt(t)pd2dq):
    /// each result element undefined when any bit of its own source element is; the rest of the
    /// destination zero (defined).
    /// </summary>
    ConvertPacked,
    /// <summary>ucomisd/comiss...: the flags from the inputs' low elements.</summary>
    CompareLowElement,
    /// <summary>pmovmskb/movmskps/movmskpd: each result bit is the shadow of its element's top bit.</summary>
    MoveMask,
    /// <summary>bsf/tzcnt: defined when the bits up to the lowest defined 1 are defined.</summary>
    ScanForward,
    /// <summary>bsr/lzcnt: the same from the top.</summary>
    ScanReverse,
    /// <summary>
    /// psll/psrl/psra of words, dwords, qwords and pslldq/psrldq by an immediate: the shadow shifts as
    /// the bits do (zeros shifted in are defined; an arithmetic shift copies the sign bit's shadow).
    /// A count in a register or memory, or a write mask: pessimistic.
    /// </summary>
    VectorShift,
    /// <summary>popcnt: the count's bits (7 for 64 bits, 6 for 32, 5 for 16) undefined when an input bit is, the rest defined 0.</summary>
    PopCount,
    /// <summary>setcc: the byte's bit 0 as defined as the condition's flags, the rest defined (no use: Valgrind's 1Uto8).</summary>
    SetCondition,
    /// <summary>cmovcc: the destination takes the selected operand's shadow, all undefined when the condition is (no use: Valgrind's ITE).</summary>
    MoveIfCondition,
    /// <summary>xchg: the operands swap shadows.</summary>
    Exchange,
    /// <summary>xadd: the sum's shadow into the destination, the old destination into the source.</summary>
    ExchangeAdd,
    /// <summary>push (and call's return address): the pushed value's shadow onto the stack.</summary>
    Push,
    /// <summary>pop: the stack's shadow into the destination.</summary>
    Pop,
    /// <summary>div/idiv: the divisor is a use; the results are pessimistic.</summary>
    Divide,
    /// <summary>movs/stos/lods and their rep forms: shadows copied or filled element by element.</summary>
    String,
    /// <summary>punpckl*/punpckh*/unpck*: each 128-bit lane interleaves the low (or high) elements of the two sources; the shadows move with them.</summary>
    Interleave,
    /// <summary>pshufd/pshuflw/pshufhw: elements picked within each 128-bit lane by the immediate; the shadows move with them.</summary>
    ShuffleImmediate,
    /// <summary>movhlps/movlhps/movhps/movlps/movhpd/movlpd: one 8-byte half replaced from the source's low or high half, the other kept.</summary>
    HalfMove,
    /// <summary>shufps/shufpd: per 128-bit lane, the low elements picked from the first source and the high ones from the second by the immediate.</summary>
    ShuffleTwoSources,
    /// <summary>pshufb (bytes picked per 128-bit lane by a control vector) and palignr (two sources' bytes shifted by the immediate).</summary>
    BytePermute,
    /// <summary>pextrb/w/d/q, extractps: the selected element's shadow, zero-extended into the destination.</summary>
    Extract,
    /// <summary>bt/bts/btr/btc: CF is the tested bit's shadow; bts/btr define that bit, btc keeps it, the others keep theirs.</summary>
    BitTest,
    /// <summary>x87 instructions (every one that touches the condition codes, and emms): see <see cref="X87Shadows"/>.</summary>
    X87,
    /// <summary>sahf (SF, ZF, AF, PF, CF from AH's bits) and lahf (AH's bits from them): the shadows bit by bit.</summary>
    FlagsByte,
    /// <summary>vpermd/q/ps/pd/w/b: each element from the table element its index names (or, vpermq/pd imm, the immediate); an undefined index element gives an undefined result element.</summary>
    PermuteVariable,
    /// <summary>vpermi2*/vpermt2*: the same from two tables.</summary>
    PermuteTwoTables,
    /// <summary>vpermilps/pd: elements picked within each 128-bit lane by the immediate or a control vector.</summary>
    PermuteInLane,
    /// <summary>vperm2i128/vperm2f128: each 128-bit half from one of the sources' halves, or a defined zero.</summary>
    PermuteHalves,
    /// <summary>valignd/valignq: the two sources' elements shifted by the immediate.</summary>
    AlignElements,
    /// <summary>vinserti128/vinsertf128/vinsert*x*: a block replaced by the inserted one.</summary>
    InsertBlock,
    /// <summary>vextracti128/vextractf128/vextract*x*: the selected block.</summary>
    ExtractBlock,
    /// <summary>pinsr*/insertps: one element replaced (insertps: and the zero mask's elements defined).</summary>
    InsertElement,
    /// <summary>packss*/packus*: saturating narrow; an element undefined as a whole when its source element has an undefined bit.</summary>
    Pack,
    /// <summary>vpbroadcast*/vbroadcast*: the source's low block in every block.</summary>
    BroadcastBlocks,
    /// <summary>pmovzx*/pmovsx*: elements widened (zero extension defined, sign extension from the top bit's shadow).</summary>
    Widen,
    /// <summary>vpcompress*/vcompressp* and vpexpand*/vexpandp*: elements move between the active positions and the packed low ones.</summary>
    CompressOrExpand,
    /// <summary>movddup/movshdup/movsldup: each pair of elements duplicates one source element.</summary>
    Duplicate,
    /// <summary>vpmov* down-conversions (AVX-512): truncation moves the low bytes' shadows, saturation makes an element with an undefined bit undefined.</summary>
    Narrow,
    /// <summary>vpgather*/vgather*: each active lane the shadow of the element at its address; masked-off lanes kept; the mask cleared (defined).</summary>
    Gather,
    /// <summary>vpscatter*/vscatter*: each active lane's memory the source element's shadow.</summary>
    Scatter,
}

/// <summary>The table: mnemonic to rule (whatever is not listed is <see cref="PropagationRule.Pessimistic"/>).</summary>
public static class PropagationRules
{
    // By mnemonic, flat: the dictionary's lookup and the mnemonic's name (an enum name, a string
    // made through reflection metadata on NativeAOT) per conditional instruction were asked once per
    // instruction per translation (cc1plus: ~2% of translation). No enum reflection at all (names,
    // values): NativeAOT builds the enum's metadata on first use, ~0.5 ms of every start (/bin/true).
    private static readonly PropagationRule[] Table = Flatten(Build());

    /// <summary>Room for every <see cref="Mnemonic"/> value (Iced 1.22 has ~1,900; a test checks).</summary>
    internal const int MnemonicSlots = 4096;

    private static PropagationRule[] Flatten(Dictionary<Mnemonic, PropagationRule> rules)
    {
        var table = new PropagationRule[MnemonicSlots];
        Array.Fill(table, PropagationRule.Pessimistic);
        foreach ((Mnemonic mnemonic, PropagationRule rule) in rules) table[(int)mnemonic] = rule;
        return table;
    }

    /// <summary>
    /// setcc and cmovcc by mnemonic; any other instruction with a condition code (cmpccxadd...) is
    /// pessimistic. (Was: the mnemonic's name starting with Set or Cmov; a test checks both agree
    /// over every code Iced knows.)
    /// </summary>
    internal static PropagationRule ConditionalRule(Mnemonic mnemonic) => mnemonic switch
    {
        Mnemonic.Seta or Mnemonic.Setae or Mnemonic.Setb or Mnemonic.Setbe or Mnemonic.Sete or Mnemonic.Setg or Mnemonic.Setge
            or Mnemonic.Setl or Mnemonic.Setle or Mnemonic.Setne or Mnemonic.Setno or Mnemonic.Setnp or Mnemonic.Setns or Mnemonic.Seto
            or Mnemonic.Setp or Mnemonic.Sets => PropagationRule.SetCondition,
        Mnemonic.Cmova or Mnemonic.Cmovae or Mnemonic.Cmovb or Mnemonic.Cmovbe or Mnemonic.Cmove or Mnemonic.Cmovg or Mnemonic.Cmovge
            or Mnemonic.Cmovl or Mnemonic.Cmovle or Mnemonic.Cmovne or Mnemonic.Cmovno or Mnemonic.Cmovnp or Mnemonic.Cmovns
            or Mnemonic.Cmovo or Mnemonic.Cmovp or Mnemonic.Cmovs => PropagationRule.MoveIfCondition,
        _ => PropagationRule.Pessimistic,
    };

    public static PropagationRule Of(in Instruction ins)
    {
        if (ins.FlowControl is FlowControl.ConditionalBranch or FlowControl.UnconditionalBranch or FlowControl.IndirectBranch
            or FlowControl.Return)
            return PropagationRule.None;
        if (ins.FlowControl is FlowControl.Call or FlowControl.IndirectCall) return PropagationRule.Push;
        if (X87Shadows.Touches(ins)) return PropagationRule.X87;
        if (ins.IsStringInstruction && ins.Mnemonic is Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Movsq
            or Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or Mnemonic.Stosq or Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq)
            return PropagationRule.String;
        if (ins.ConditionCode != ConditionCode.None) return ConditionalRule(ins.Mnemonic);
        return Table[(int)ins.Mnemonic];
    }

    private static Dictionary<Mnemonic, PropagationRule> Build()
    {
        var t = new Dictionary<Mnemonic, PropagationRule>();
        void Add(PropagationRule rule, params Mnemonic[] mnemonics)
        {
            foreach (Mnemonic m in mnemonics) t[m] = rule;
        }
        Add(PropagationRule.None, Mnemonic.Nop, Mnemonic.Lfence, Mnemonic.Sfence, Mnemonic.Mfence, Mnemonic.Pause, Mnemonic.Endbr64,
            Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchw, Mnemonic.Vzeroupper,
            Mnemonic.Cld, Mnemonic.Std, Mnemonic.Clc, Mnemonic.Stc, Mnemonic.Cmc, Mnemonic.Ud2, Mnemonic.Int3);
        Add(PropagationRule.Define, Mnemonic.Cpuid, Mnemonic.Rdtsc, Mnemonic.Rdtscp, Mnemonic.Xgetbv, Mnemonic.Rdrand, Mnemonic.Rdseed,
            Mnemonic.Rdpid, Mnemonic.Vzeroall, Mnemonic.Rdfsbase, Mnemonic.Rdgsbase, Mnemonic.Rdpkru, Mnemonic.Xend, Mnemonic.Xtest,
            Mnemonic.Stmxcsr, Mnemonic.Vstmxcsr, Mnemonic.Fxsave, Mnemonic.Fxsave64, Mnemonic.Xsave, Mnemonic.Xsave64,
            Mnemonic.Xsavec, Mnemonic.Xsavec64, Mnemonic.Xsaveopt, Mnemonic.Xsaveopt64);
        Add(PropagationRule.Move, Mnemonic.Mov, Mnemonic.Movzx, Mnemonic.Movd, Mnemonic.Movq, Mnemonic.Movnti, Mnemonic.Movbe,
            Mnemonic.Movaps, Mnemonic.Movups, Mnemonic.Movapd, Mnemonic.Movupd, Mnemonic.Movdqa, Mnemonic.Movdqu, Mnemonic.Lddqu,
            Mnemonic.Movntdq, Mnemonic.Movntps, Mnemonic.Movntpd, Mnemonic.Movntdqa,
            Mnemonic.Vmovaps, Mnemonic.Vmovups, Mnemonic.Vmovapd, Mnemonic.Vmovupd, Mnemonic.Vmovdqa, Mnemonic.Vmovdqu, Mnemonic.Vlddqu,
            Mnemonic.Vmovdqa32, Mnemonic.Vmovdqa64, Mnemonic.Vmovdqu8, Mnemonic.Vmovdqu16, Mnemonic.Vmovdqu32, Mnemonic.Vmovdqu64,
            Mnemonic.Vmovntdq, Mnemonic.Vmovntps, Mnemonic.Vmovntpd, Mnemonic.Vmovntdqa, Mnemonic.Vmovd, Mnemonic.Vmovq,
            Mnemonic.Kmovb, Mnemonic.Kmovw, Mnemonic.Kmovd, Mnemonic.Kmovq, Mnemonic.Movq2dq, Mnemonic.Movdq2q);
        Add(PropagationRule.MoveSignExtend, Mnemonic.Movsx, Mnemonic.Movsxd);
        Add(PropagationRule.MoveLowElement, Mnemonic.Movss, Mnemonic.Movsd, Mnemonic.Vmovss, Mnemonic.Vmovsd);
        Add(PropagationRule.And, Mnemonic.And, Mnemonic.Test, Mnemonic.Pand, Mnemonic.Andps, Mnemonic.Andpd, Mnemonic.Vpand, Mnemonic.Vandps,
            Mnemonic.Vandpd, Mnemonic.Vpandd, Mnemonic.Vpandq, Mnemonic.Kandb, Mnemonic.Kandw, Mnemonic.Kandd, Mnemonic.Kandq);
        Add(PropagationRule.Or, Mnemonic.Or, Mnemonic.Por, Mnemonic.Orps, Mnemonic.Orpd, Mnemonic.Vpor, Mnemonic.Vorps, Mnemonic.Vorpd,
            Mnemonic.Vpord, Mnemonic.Vporq, Mnemonic.Korb, Mnemonic.Korw, Mnemonic.Kord, Mnemonic.Korq);
        Add(PropagationRule.Xor, Mnemonic.Xor, Mnemonic.Pxor, Mnemonic.Xorps, Mnemonic.Xorpd, Mnemonic.Vpxor, Mnemonic.Vxorps, Mnemonic.Vxorpd,
            Mnemonic.Vpxord, Mnemonic.Vpxorq, Mnemonic.Kxorb, Mnemonic.Kxorw, Mnemonic.Kxord, Mnemonic.Kxorq, Mnemonic.Not, Mnemonic.Knotb,
            Mnemonic.Knotw, Mnemonic.Knotd, Mnemonic.Knotq, Mnemonic.Bswap);
        Add(PropagationRule.AndNot, Mnemonic.Andn, Mnemonic.Pandn, Mnemonic.Andnps, Mnemonic.Andnpd, Mnemonic.Vpandn, Mnemonic.Vandnps,
            Mnemonic.Vandnpd, Mnemonic.Vpandnd, Mnemonic.Vpandnq);
        Add(PropagationRule.Arith, Mnemonic.Add, Mnemonic.Sub, Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg,
            Mnemonic.Cmp, Mnemonic.Imul, Mnemonic.Lea, Mnemonic.Adcx, Mnemonic.Adox);
        Add(PropagationRule.Shift, Mnemonic.Shl, Mnemonic.Sal, Mnemonic.Shr, Mnemonic.Sar, Mnemonic.Rol, Mnemonic.Ror, Mnemonic.Shlx,
            Mnemonic.Shrx, Mnemonic.Sarx, Mnemonic.Rorx, Mnemonic.Shld, Mnemonic.Shrd);
        Add(PropagationRule.SignFill, Mnemonic.Cbw, Mnemonic.Cwde, Mnemonic.Cdqe, Mnemonic.Cwd, Mnemonic.Cdq, Mnemonic.Cqo);
        Add(PropagationRule.MoveMask, Mnemonic.Pmovmskb, Mnemonic.Vpmovmskb, Mnemonic.Movmskps, Mnemonic.Movmskpd, Mnemonic.Vmovmskps,
            Mnemonic.Vmovmskpd);
        Add(PropagationRule.ScanForward, Mnemonic.Bsf, Mnemonic.Tzcnt);
        Add(PropagationRule.ScanReverse, Mnemonic.Bsr, Mnemonic.Lzcnt);
        Add(PropagationRule.PopCount, Mnemonic.Popcnt);
        Add(PropagationRule.VectorShift, Mnemonic.Psllw, Mnemonic.Pslld, Mnemonic.Psllq, Mnemonic.Psrlw, Mnemonic.Psrld, Mnemonic.Psrlq,
            Mnemonic.Psraw, Mnemonic.Psrad, Mnemonic.Pslldq, Mnemonic.Psrldq, Mnemonic.Vpsllw, Mnemonic.Vpslld, Mnemonic.Vpsllq,
            Mnemonic.Vpsrlw, Mnemonic.Vpsrld, Mnemonic.Vpsrlq, Mnemonic.Vpsraw, Mnemonic.Vpsrad, Mnemonic.Vpsraq, Mnemonic.Vpslldq,
            Mnemonic.Vpsrldq);
        Add(PropagationRule.Exchange, Mnemonic.Xchg);
        Add(PropagationRule.ExchangeAdd, Mnemonic.Xadd);
        Add(PropagationRule.Push, Mnemonic.Push);
        Add(PropagationRule.Pop, Mnemonic.Pop);
        Add(PropagationRule.Divide, Mnemonic.Div, Mnemonic.Idiv);
        Add(PropagationRule.CompareLowElement, Mnemonic.Ucomiss, Mnemonic.Ucomisd, Mnemonic.Comiss, Mnemonic.Comisd, Mnemonic.Vucomiss,
            Mnemonic.Vucomisd, Mnemonic.Vcomiss, Mnemonic.Vcomisd);
        // Element by element (integer and floating point lanes; pcmpeq of a register with itself is all ones).
        Add(PropagationRule.Elementwise, Mnemonic.Paddb, Mnemonic.Paddw, Mnemonic.Paddd, Mnemonic.Paddq, Mnemonic.Psubb, Mnemonic.Psubw,
            Mnemonic.Psubd, Mnemonic.Psubq, Mnemonic.Paddsb, Mnemonic.Paddsw, Mnemonic.Paddusb, Mnemonic.Paddusw, Mnemonic.Psubsb,
            Mnemonic.Psubsw, Mnemonic.Psubusb, Mnemonic.Psubusw, Mnemonic.Pcmpeqb, Mnemonic.Pcmpeqw, Mnemonic.Pcmpeqd, Mnemonic.Pcmpeqq,
            Mnemonic.Pcmpgtb, Mnemonic.Pcmpgtw, Mnemonic.Pcmpgtd, Mnemonic.Pcmpgtq, Mnemonic.Pminub, Mnemonic.Pminuw, Mnemonic.Pminud,
            Mnemonic.Pminsb, Mnemonic.Pminsw, Mnemonic.Pminsd, Mnemonic.Pmaxub, Mnemonic.Pmaxuw, Mnemonic.Pmaxud, Mnemonic.Pmaxsb,
            Mnemonic.Pmaxsw, Mnemonic.Pmaxsd, Mnemonic.Pavgb, Mnemonic.Pavgw, Mnemonic.Pmullw, Mnemonic.Pmulld, Mnemonic.Pmulhw,
            Mnemonic.Pmulhuw, Mnemonic.Pabsb, Mnemonic.Pabsw, Mnemonic.Pabsd, Mnemonic.Psignb, Mnemonic.Psignw, Mnemonic.Psignd,
            Mnemonic.Addps, Mnemonic.Addpd, Mnemonic.Subps, Mnemonic.Subpd, Mnemonic.Mulps, Mnemonic.Mulpd, Mnemonic.Divps, Mnemonic.Divpd,
            Mnemonic.Minps, Mnemonic.Minpd, Mnemonic.Maxps, Mnemonic.Maxpd, Mnemonic.Sqrtps, Mnemonic.Sqrtpd, Mnemonic.Cmpps,
            Mnemonic.Cmppd, Mnemonic.Vpaddb, Mnemonic.Vpaddw, Mnemonic.Vpaddd, Mnemonic.Vpaddq, Mnemonic.Vpsubb, Mnemonic.Vpsubw,
            Mnemonic.Vpsubd, Mnemonic.Vpsubq, Mnemonic.Vpcmpeqb, Mnemonic.Vpcmpeqw, Mnemonic.Vpcmpeqd, Mnemonic.Vpcmpeqq,
            Mnemonic.Vpcmpgtb, Mnemonic.Vpcmpgtw, Mnemonic.Vpcmpgtd, Mnemonic.Vpcmpgtq, Mnemonic.Vpminub, Mnemonic.Vpminuw,
            Mnemonic.Vpminud, Mnemonic.Vpminsb, Mnemonic.Vpminsw, Mnemonic.Vpminsd, Mnemonic.Vpmaxub, Mnemonic.Vpmaxuw, Mnemonic.Vpmaxud,
            Mnemonic.Vpmaxsb, Mnemonic.Vpmaxsw, Mnemonic.Vpmaxsd, Mnemonic.Vpavgb, Mnemonic.Vpavgw, Mnemonic.Vpmullw, Mnemonic.Vpmulld,
            Mnemonic.Vaddps, Mnemonic.Vaddpd, Mnemonic.Vsubps, Mnemonic.Vsubpd, Mnemonic.Vmulps, Mnemonic.Vmulpd, Mnemonic.Vdivps,
            Mnemonic.Vdivpd, Mnemonic.Vminps, Mnemonic.Vminpd, Mnemonic.Vmaxps, Mnemonic.Vmaxpd, Mnemonic.Vsqrtps, Mnemonic.Vsqrtpd,
            Mnemonic.Vcmpps, Mnemonic.Vcmppd, Mnemonic.Vfmadd132ps, Mnemonic.Vfmadd213ps, Mnemonic.Vfmadd231ps, Mnemonic.Vfmadd132pd,
            Mnemonic.Vfmadd213pd, Mnemonic.Vfmadd231pd, Mnemonic.Vpternlogd, Mnemonic.Vpternlogq, Mnemonic.Vpblendmb, Mnemonic.Vpblendmw,
            Mnemonic.Vpblendmd, Mnemonic.Vpblendmq, Mnemonic.Vblendmps, Mnemonic.Vblendmpd, Mnemonic.Vpcmpb, Mnemonic.Vpcmpub,
            Mnemonic.Vpcmpw, Mnemonic.Vpcmpuw, Mnemonic.Vpcmpd, Mnemonic.Vpcmpud, Mnemonic.Vpcmpq, Mnemonic.Vpcmpuq, Mnemonic.Vptestmb,
            Mnemonic.Vptestmw, Mnemonic.Vptestmd, Mnemonic.Vptestmq, Mnemonic.Vptestnmb, Mnemonic.Vptestnmw, Mnemonic.Vptestnmd,
            Mnemonic.Vptestnmq);
        Add(PropagationRule.Interleave, Mnemonic.Punpcklbw, Mnemonic.Vpunpcklbw);
        Add(PropagationRule.Interleave, Mnemonic.Punpckhbw, Mnemonic.Vpunpckhbw);
        Add(PropagationRule.Interleave, Mnemonic.Punpcklwd, Mnemonic.Vpunpcklwd);
        Add(PropagationRule.Interleave, Mnemonic.Punpckhwd, Mnemonic.Vpunpckhwd);
        Add(PropagationRule.Interleave, Mnemonic.Punpckldq, Mnemonic.Vpunpckldq);
        Add(PropagationRule.Interleave, Mnemonic.Punpckhdq, Mnemonic.Vpunpckhdq);
        Add(PropagationRule.Interleave, Mnemonic.Punpcklqdq, Mnemonic.Vpunpcklqdq);
        Add(PropagationRule.Interleave, Mnemonic.Punpckhqdq, Mnemonic.Vpunpckhqdq);
        Add(PropagationRule.Interleave, Mnemonic.Unpcklps, Mnemonic.Unpckhps, Mnemonic.Unpcklpd, Mnemonic.Unpckhpd, Mnemonic.Vunpcklps,
            Mnemonic.Vunpckhps, Mnemonic.Vunpcklpd, Mnemonic.Vunpckhpd);
        Add(PropagationRule.HalfMove, Mnemonic.Movhlps, Mnemonic.Vmovhlps, Mnemonic.Movlhps, Mnemonic.Vmovlhps, Mnemonic.Movhps,
            Mnemonic.Vmovhps, Mnemonic.Movlps, Mnemonic.Vmovlps, Mnemonic.Movhpd, Mnemonic.Vmovhpd, Mnemonic.Movlpd, Mnemonic.Vmovlpd);
        Add(PropagationRule.BytePermute, Mnemonic.Pshufb, Mnemonic.Vpshufb, Mnemonic.Palignr, Mnemonic.Vpalignr);
        Add(PropagationRule.ShuffleTwoSources, Mnemonic.Shufps, Mnemonic.Vshufps, Mnemonic.Shufpd, Mnemonic.Vshufpd);
        Add(PropagationRule.Extract, Mnemonic.Pextrb, Mnemonic.Pextrw, Mnemonic.Pextrd, Mnemonic.Pextrq, Mnemonic.Vpextrb,
            Mnemonic.Vpextrw, Mnemonic.Vpextrd, Mnemonic.Vpextrq, Mnemonic.Extractps, Mnemonic.Vextractps);
        Add(PropagationRule.BitTest, Mnemonic.Bt, Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc);
        Add(PropagationRule.FlagsByte, Mnemonic.Sahf, Mnemonic.Lahf);
        Add(PropagationRule.PermuteVariable, Mnemonic.Vpermd, Mnemonic.Vpermq, Mnemonic.Vpermps, Mnemonic.Vpermpd, Mnemonic.Vpermw,
            Mnemonic.Vpermb);
        Add(PropagationRule.PermuteTwoTables, Mnemonic.Vpermi2b, Mnemonic.Vpermt2b);
        Add(PropagationRule.PermuteTwoTables, Mnemonic.Vpermi2w, Mnemonic.Vpermt2w);
        Add(PropagationRule.PermuteTwoTables, Mnemonic.Vpermi2d, Mnemonic.Vpermt2d);
        Add(PropagationRule.PermuteTwoTables, Mnemonic.Vpermi2q, Mnemonic.Vpermt2q);
        Add(PropagationRule.PermuteTwoTables, Mnemonic.Vpermi2ps, Mnemonic.Vpermt2ps);
        Add(PropagationRule.PermuteTwoTables, Mnemonic.Vpermi2pd, Mnemonic.Vpermt2pd);
        Add(PropagationRule.PermuteInLane, Mnemonic.Vpermilps, Mnemonic.Vpermilpd);
        Add(PropagationRule.PermuteHalves, Mnemonic.Vperm2i128, Mnemonic.Vperm2f128);
        Add(PropagationRule.AlignElements, Mnemonic.Valignd, Mnemonic.Valignq);
        Add(PropagationRule.InsertBlock, Mnemonic.Vinserti128, Mnemonic.Vinsertf128);
        Add(PropagationRule.ExtractBlock, Mnemonic.Vextracti128, Mnemonic.Vextractf128);
        Add(PropagationRule.InsertBlock, Mnemonic.Vinserti32x4, Mnemonic.Vinsertf32x4);
        Add(PropagationRule.ExtractBlock, Mnemonic.Vextracti32x4, Mnemonic.Vextractf32x4);
        Add(PropagationRule.InsertBlock, Mnemonic.Vinserti64x2, Mnemonic.Vinsertf64x2);
        Add(PropagationRule.ExtractBlock, Mnemonic.Vextracti64x2, Mnemonic.Vextractf64x2);
        Add(PropagationRule.InsertBlock, Mnemonic.Vinserti32x8, Mnemonic.Vinsertf32x8);
        Add(PropagationRule.ExtractBlock, Mnemonic.Vextracti32x8, Mnemonic.Vextractf32x8);
        Add(PropagationRule.InsertBlock, Mnemonic.Vinserti64x4, Mnemonic.Vinsertf64x4);
        Add(PropagationRule.ExtractBlock, Mnemonic.Vextracti64x4, Mnemonic.Vextractf64x4);
        Add(PropagationRule.InsertElement, Mnemonic.Insertps, Mnemonic.Vinsertps, Mnemonic.Pinsrb, Mnemonic.Pinsrw, Mnemonic.Pinsrd,
            Mnemonic.Pinsrq, Mnemonic.Vpinsrb, Mnemonic.Vpinsrw, Mnemonic.Vpinsrd, Mnemonic.Vpinsrq);
        Add(PropagationRule.Pack, Mnemonic.Packsswb, Mnemonic.Packuswb, Mnemonic.Packssdw, Mnemonic.Packusdw, Mnemonic.Vpacksswb,
            Mnemonic.Vpackuswb, Mnemonic.Vpackssdw, Mnemonic.Vpackusdw);
        Add(PropagationRule.BroadcastBlocks, Mnemonic.Vpbroadcastb, Mnemonic.Vpbroadcastw, Mnemonic.Vpbroadcastd, Mnemonic.Vpbroadcastq,
            Mnemonic.Vbroadcastss, Mnemonic.Vbroadcastsd, Mnemonic.Vbroadcastf128, Mnemonic.Vbroadcasti128, Mnemonic.Vbroadcastf32x2,
            Mnemonic.Vbroadcasti32x2, Mnemonic.Vbroadcastf32x4, Mnemonic.Vbroadcastf64x2, Mnemonic.Vbroadcasti32x4,
            Mnemonic.Vbroadcasti64x2, Mnemonic.Vbroadcastf32x8, Mnemonic.Vbroadcastf64x4, Mnemonic.Vbroadcasti32x8,
            Mnemonic.Vbroadcasti64x4);
        Add(PropagationRule.Widen, Mnemonic.Pmovzxbw, Mnemonic.Pmovsxbw, Mnemonic.Vpmovzxbw, Mnemonic.Vpmovsxbw);
        Add(PropagationRule.Widen, Mnemonic.Pmovzxbd, Mnemonic.Pmovsxbd, Mnemonic.Vpmovzxbd, Mnemonic.Vpmovsxbd);
        Add(PropagationRule.Widen, Mnemonic.Pmovzxbq, Mnemonic.Pmovsxbq, Mnemonic.Vpmovzxbq, Mnemonic.Vpmovsxbq);
        Add(PropagationRule.Widen, Mnemonic.Pmovzxwd, Mnemonic.Pmovsxwd, Mnemonic.Vpmovzxwd, Mnemonic.Vpmovsxwd);
        Add(PropagationRule.Widen, Mnemonic.Pmovzxwq, Mnemonic.Pmovsxwq, Mnemonic.Vpmovzxwq, Mnemonic.Vpmovsxwq);
        Add(PropagationRule.Widen, Mnemonic.Pmovzxdq, Mnemonic.Pmovsxdq, Mnemonic.Vpmovzxdq, Mnemonic.Vpmovsxdq);
        Add(PropagationRule.CompressOrExpand, Mnemonic.Vpcompressb, Mnemonic.Vpcompressw, Mnemonic.Vpcompressd, Mnemonic.Vpcompressq,
            Mnemonic.Vcompressps, Mnemonic.Vcompresspd, Mnemonic.Vpexpandb, Mnemonic.Vpexpandw, Mnemonic.Vpexpandd, Mnemonic.Vpexpandq,
            Mnemonic.Vexpandps, Mnemonic.Vexpandpd);
        Add(PropagationRule.Duplicate, Mnemonic.Movddup, Mnemonic.Vmovddup, Mnemonic.Movshdup, Mnemonic.Vmovshdup, Mnemonic.Movsldup,
            Mnemonic.Vmovsldup);
        Add(PropagationRule.Narrow, Mnemonic.Vpmovqd, Mnemonic.Vpmovsqd, Mnemonic.Vpmovusqd);
        Add(PropagationRule.Narrow, Mnemonic.Vpmovqw, Mnemonic.Vpmovsqw, Mnemonic.Vpmovusqw);
        Add(PropagationRule.Narrow, Mnemonic.Vpmovqb, Mnemonic.Vpmovsqb, Mnemonic.Vpmovusqb);
        Add(PropagationRule.Narrow, Mnemonic.Vpmovdw, Mnemonic.Vpmovsdw, Mnemonic.Vpmovusdw);
        Add(PropagationRule.Narrow, Mnemonic.Vpmovdb, Mnemonic.Vpmovsdb, Mnemonic.Vpmovusdb);
        Add(PropagationRule.Narrow, Mnemonic.Vpmovwb, Mnemonic.Vpmovswb, Mnemonic.Vpmovuswb);
        Add(PropagationRule.Gather, Mnemonic.Vpgatherdd);
        Add(PropagationRule.Scatter, Mnemonic.Vpscatterdd);
        Add(PropagationRule.Gather, Mnemonic.Vpgatherdq);
        Add(PropagationRule.Scatter, Mnemonic.Vpscatterdq);
        Add(PropagationRule.Gather, Mnemonic.Vpgatherqd);
        Add(PropagationRule.Scatter, Mnemonic.Vpscatterqd);
        Add(PropagationRule.Gather, Mnemonic.Vpgatherqq);
        Add(PropagationRule.Scatter, Mnemonic.Vpscatterqq);
        Add(PropagationRule.Gather, Mnemonic.Vgatherdps);
        Add(PropagationRule.Scatter, Mnemonic.Vscatterdps);
        Add(PropagationRule.Gather, Mnemonic.Vgatherdpd);
        Add(PropagationRule.Scatter, Mnemonic.Vscatterdpd);
        Add(PropagationRule.Gather, Mnemonic.Vgatherqps);
        Add(PropagationRule.Scatter, Mnemonic.Vscatterqps);
        Add(PropagationRule.Gather, Mnemonic.Vgatherqpd);
        Add(PropagationRule.Scatter, Mnemonic.Vscatterqpd);
        Add(PropagationRule.ShuffleImmediate, Mnemonic.Pshufd, Mnemonic.Vpshufd, Mnemonic.Pshuflw, Mnemonic.Vpshuflw, Mnemonic.Pshufhw,
            Mnemonic.Vpshufhw);
        Add(PropagationRule.Scalar, Mnemonic.Addss, Mnemonic.Addsd, Mnemonic.Subss, Mnemonic.Subsd, Mnemonic.Mulss, Mnemonic.Mulsd,
            Mnemonic.Divss, Mnemonic.Divsd, Mnemonic.Minss, Mnemonic.Minsd, Mnemonic.Maxss, Mnemonic.Maxsd, Mnemonic.Vaddss, Mnemonic.Vaddsd, Mnemonic.Vsubss, Mnemonic.Vsubsd, Mnemonic.Vmulss, Mnemonic.Vmulsd,
            Mnemonic.Vdivss, Mnemonic.Vdivsd, Mnemonic.Vminss, Mnemonic.Vminsd, Mnemonic.Vmaxss, Mnemonic.Vmaxsd,
            Mnemonic.Vfmadd132sd, Mnemonic.Vfmadd213sd, Mnemonic.Vfmadd231sd, Mnemonic.Vfmadd132ss, Mnemonic.Vfmadd213ss,
            Mnemonic.Vfmadd231ss);
        Add(PropagationRule.ConvertPacked, Mnemonic.Cvtps2pd, Mnemonic.Cvtdq2pd, Mnemonic.Vcvtps2pd, Mnemonic.Vcvtdq2pd,
            Mnemonic.Cvtpd2ps, Mnemonic.Cvtpd2dq, Mnemonic.Cvttpd2dq, Mnemonic.Vcvtpd2ps, Mnemonic.Vcvtpd2dq, Mnemonic.Vcvttpd2dq);
        // Same-width conversions and one-input packed ops: element by element.
        Add(PropagationRule.Elementwise, Mnemonic.Cvtdq2ps, Mnemonic.Cvtps2dq, Mnemonic.Cvttps2dq, Mnemonic.Vcvtdq2ps,
            Mnemonic.Vcvtps2dq, Mnemonic.Vcvttps2dq, Mnemonic.Roundps, Mnemonic.Roundpd, Mnemonic.Vroundps, Mnemonic.Vroundpd,
            Mnemonic.Rcpps, Mnemonic.Rsqrtps, Mnemonic.Vrcpps, Mnemonic.Vrsqrtps);
        Add(PropagationRule.ScalarUnary, Mnemonic.Sqrtss, Mnemonic.Sqrtsd, Mnemonic.Vsqrtss, Mnemonic.Vsqrtsd, Mnemonic.Cvtss2sd,
            Mnemonic.Cvtsd2ss, Mnemonic.Vcvtss2sd, Mnemonic.Vcvtsd2ss, Mnemonic.Cvtsi2ss, Mnemonic.Cvtsi2sd, Mnemonic.Vcvtsi2ss,
            Mnemonic.Vcvtsi2sd, Mnemonic.Vcvtusi2ss, Mnemonic.Vcvtusi2sd, Mnemonic.Cvtss2si, Mnemonic.Cvtsd2si, Mnemonic.Cvttss2si,
            Mnemonic.Cvttsd2si, Mnemonic.Vcvtss2si, Mnemonic.Vcvtsd2si, Mnemonic.Vcvttss2si, Mnemonic.Vcvttsd2si, Mnemonic.Vcvtss2usi,
            Mnemonic.Vcvtsd2usi, Mnemonic.Vcvttss2usi, Mnemonic.Vcvttsd2usi, Mnemonic.Roundss, Mnemonic.Roundsd, Mnemonic.Vroundss,
            Mnemonic.Vroundsd, Mnemonic.Rcpss, Mnemonic.Rsqrtss, Mnemonic.Vrcpss, Mnemonic.Vrsqrtss);
        return t;
    }
}
