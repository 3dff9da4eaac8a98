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
    /// <summary>Shifts and rotates: the shadow moves with the bits; an undefined count makes all undefined.</summary>
    Shift,
    /// <summary>cbw/cwde/cdqe/cwd/cdq/cqo: the top bit's shadow fills the extension.</summary>
    SignFill,
    /// <summary>Vector ops that work element by element: an element is undefined if any input element bit is.</summary>
    Elementwise,
    /// <summary>Scalar vector ops (addsd...): the low element from the inputs' low elements, the rest from the first source.</summary>
    Scalar,
    /// <summary>ucomisd/comiss...: the flags from the inputs' low elements.</summary>
    CompareLowElement,
    /// <summary>pmovmskb/movmskps/movmskpd: each result bit is the shadow of its element's top bit.</summary>
    MoveMask,
    /// <summary>bsf/tzcnt: defined when the bits up to the lowest defined 1 are defined.</summary>
    ScanForward,
    /// <summary>bsr/lzcnt: the same from the top.</summary>
    ScanReverse,
    /// <summary>setcc: a use of the flags; the byte is defined.</summary>
    SetCondition,
    /// <summary>cmovcc: a use of the flags; the destination takes the selected operand's shadow.</summary>
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
    // instruction per translation (cc1plus: ~2% of translation).
    private static readonly PropagationRule[] Table = Flatten(Build());
    private static readonly PropagationRule?[] Conditional = new PropagationRule?[(int)Enum.GetValues<Mnemonic>().Max() + 1];

    private static PropagationRule[] Flatten(Dictionary<Mnemonic, PropagationRule> rules)
    {
        var table = new PropagationRule[(int)Enum.GetValues<Mnemonic>().Max() + 1];
        Array.Fill(table, PropagationRule.Pessimistic);
        foreach ((Mnemonic mnemonic, PropagationRule rule) in rules) table[(int)mnemonic] = rule;
        return table;
    }

    private static PropagationRule ConditionalRule(Mnemonic mnemonic) =>
        Conditional[(int)mnemonic] ??= mnemonic.ToString().StartsWith("Set", StringComparison.Ordinal) ? PropagationRule.SetCondition
            : mnemonic.ToString().StartsWith("Cmov", StringComparison.Ordinal) ? PropagationRule.MoveIfCondition
            : PropagationRule.Pessimistic;

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
        // Enum.Parse scans Iced's ~1,800 mnemonic names for each name: a dictionary built once is
        // milliseconds cheaper on every start.
        var byName = new Dictionary<string, Mnemonic>(StringComparer.OrdinalIgnoreCase);
        string[] mnemonicNames = Enum.GetNames<Mnemonic>();
        Mnemonic[] mnemonics = Enum.GetValues<Mnemonic>();
        for (int i = 0; i < mnemonics.Length; i++) byName.TryAdd(mnemonicNames[i], mnemonics[i]);
        void AddNamed(PropagationRule rule, params string[] names)
        {
            foreach (string n in names) t[byName.TryGetValue(n, out Mnemonic m) ? m : throw new ArgumentException($"no mnemonic {n}")] = rule;
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
            Mnemonic.Shrx, Mnemonic.Sarx, Mnemonic.Rorx);
        Add(PropagationRule.SignFill, Mnemonic.Cbw, Mnemonic.Cwde, Mnemonic.Cdqe, Mnemonic.Cwd, Mnemonic.Cdq, Mnemonic.Cqo);
        Add(PropagationRule.MoveMask, Mnemonic.Pmovmskb, Mnemonic.Vpmovmskb, Mnemonic.Movmskps, Mnemonic.Movmskpd, Mnemonic.Vmovmskps,
            Mnemonic.Vmovmskpd);
        Add(PropagationRule.ScanForward, Mnemonic.Bsf, Mnemonic.Tzcnt);
        Add(PropagationRule.ScanReverse, Mnemonic.Bsr, Mnemonic.Lzcnt);
        Add(PropagationRule.Exchange, Mnemonic.Xchg);
        Add(PropagationRule.ExchangeAdd, Mnemonic.Xadd);
        Add(PropagationRule.Push, Mnemonic.Push);
        Add(PropagationRule.Pop, Mnemonic.Pop);
        Add(PropagationRule.Divide, Mnemonic.Div, Mnemonic.Idiv);
        Add(PropagationRule.CompareLowElement, Mnemonic.Ucomiss, Mnemonic.Ucomisd, Mnemonic.Comiss, Mnemonic.Comisd, Mnemonic.Vucomiss,
            Mnemonic.Vucomisd, Mnemonic.Vcomiss, Mnemonic.Vcomisd);
        // Element by element (integer and floating point lanes; pcmpeq of a register with itself is all ones).
        AddNamed(PropagationRule.Elementwise,
            "Paddb", "Paddw", "Paddd", "Paddq", "Psubb", "Psubw", "Psubd", "Psubq", "Paddsb", "Paddsw", "Paddusb", "Paddusw",
            "Psubsb", "Psubsw", "Psubusb", "Psubusw", "Pcmpeqb", "Pcmpeqw", "Pcmpeqd", "Pcmpeqq", "Pcmpgtb", "Pcmpgtw", "Pcmpgtd", "Pcmpgtq",
            "Pminub", "Pminuw", "Pminud", "Pminsb", "Pminsw", "Pminsd", "Pmaxub", "Pmaxuw", "Pmaxud", "Pmaxsb", "Pmaxsw", "Pmaxsd",
            "Pavgb", "Pavgw", "Pmullw", "Pmulld", "Pmulhw", "Pmulhuw", "Pabsb", "Pabsw", "Pabsd", "Psignb", "Psignw", "Psignd",
            "Addps", "Addpd", "Subps", "Subpd", "Mulps", "Mulpd", "Divps", "Divpd", "Minps", "Minpd", "Maxps", "Maxpd", "Sqrtps", "Sqrtpd",
            "Cmpps", "Cmppd",
            "Vpaddb", "Vpaddw", "Vpaddd", "Vpaddq", "Vpsubb", "Vpsubw", "Vpsubd", "Vpsubq", "Vpcmpeqb", "Vpcmpeqw", "Vpcmpeqd", "Vpcmpeqq",
            "Vpcmpgtb", "Vpcmpgtw", "Vpcmpgtd", "Vpcmpgtq", "Vpminub", "Vpminuw", "Vpminud", "Vpminsb", "Vpminsw", "Vpminsd",
            "Vpmaxub", "Vpmaxuw", "Vpmaxud", "Vpmaxsb", "Vpmaxsw", "Vpmaxsd", "Vpavgb", "Vpavgw", "Vpmullw", "Vpmulld",
            "Vaddps", "Vaddpd", "Vsubps", "Vsubpd", "Vmulps", "Vmulpd", "Vdivps", "Vdivpd", "Vminps", "Vminpd", "Vmaxps", "Vmaxpd",
            "Vsqrtps", "Vsqrtpd", "Vcmpps", "Vcmppd", "Vfmadd132ps", "Vfmadd213ps", "Vfmadd231ps", "Vfmadd132pd", "Vfmadd213pd", "Vfmadd231pd",
            "Vpternlogd", "Vpternlogq", "Vpblendmb", "Vpblendmw", "Vpblendmd", "Vpblendmq", "Vblendmps", "Vblendmpd",
            "Vpcmpb", "Vpcmpub", "Vpcmpw", "Vpcmpuw", "Vpcmpd", "Vpcmpud", "Vpcmpq", "Vpcmpuq", "Vptestmb", "Vptestmw", "Vptestmd", "Vptestmq",
            "Vptestnmb", "Vptestnmw", "Vptestnmd", "Vptestnmq");
        foreach (string size in new[] { "bw", "wd", "dq", "qdq" })
            foreach (string half in new[] { "l", "h" })
                AddNamed(PropagationRule.Interleave, $"Punpck{half}{size}", $"Vpunpck{half}{size}");
        AddNamed(PropagationRule.Interleave, "Unpcklps", "Unpckhps", "Unpcklpd", "Unpckhpd", "Vunpcklps", "Vunpckhps", "Vunpcklpd", "Vunpckhpd");
        AddNamed(PropagationRule.HalfMove, "Movhlps", "Vmovhlps", "Movlhps", "Vmovlhps", "Movhps", "Vmovhps", "Movlps", "Vmovlps",
            "Movhpd", "Vmovhpd", "Movlpd", "Vmovlpd");
        AddNamed(PropagationRule.BytePermute, "Pshufb", "Vpshufb", "Palignr", "Vpalignr");
        AddNamed(PropagationRule.ShuffleTwoSources, "Shufps", "Vshufps", "Shufpd", "Vshufpd");
        AddNamed(PropagationRule.Extract, "Pextrb", "Pextrw", "Pextrd", "Pextrq", "Vpextrb", "Vpextrw", "Vpextrd", "Vpextrq", "Extractps", "Vextractps");
        Add(PropagationRule.BitTest, Mnemonic.Bt, Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc);
        Add(PropagationRule.FlagsByte, Mnemonic.Sahf, Mnemonic.Lahf);
        AddNamed(PropagationRule.PermuteVariable, "Vpermd", "Vpermq", "Vpermps", "Vpermpd", "Vpermw", "Vpermb");
        foreach (string suffix in new[] { "b", "w", "d", "q", "ps", "pd" })
            AddNamed(PropagationRule.PermuteTwoTables, $"Vpermi2{suffix}", $"Vpermt2{suffix}");
        AddNamed(PropagationRule.PermuteInLane, "Vpermilps", "Vpermilpd");
        AddNamed(PropagationRule.PermuteHalves, "Vperm2i128", "Vperm2f128");
        AddNamed(PropagationRule.AlignElements, "Valignd", "Valignq");
        foreach (string block in new[] { "128", "32x4", "64x2", "32x8", "64x4" })
        {
            AddNamed(PropagationRule.InsertBlock, $"Vinserti{block}", $"Vinsertf{block}");
            AddNamed(PropagationRule.ExtractBlock, $"Vextracti{block}", $"Vextractf{block}");
        }
        AddNamed(PropagationRule.InsertElement, "Insertps", "Vinsertps", "Pinsrb", "Pinsrw", "Pinsrd", "Pinsrq", "Vpinsrb", "Vpinsrw", "Vpinsrd", "Vpinsrq");
        AddNamed(PropagationRule.Pack, "Packsswb", "Packuswb", "Packssdw", "Packusdw", "Vpacksswb", "Vpackuswb", "Vpackssdw", "Vpackusdw");
        AddNamed(PropagationRule.BroadcastBlocks, "Vpbroadcastb", "Vpbroadcastw", "Vpbroadcastd", "Vpbroadcastq", "Vbroadcastss", "Vbroadcastsd",
            "Vbroadcastf128", "Vbroadcasti128", "Vbroadcastf32x2", "Vbroadcasti32x2", "Vbroadcastf32x4", "Vbroadcastf64x2", "Vbroadcasti32x4",
            "Vbroadcasti64x2", "Vbroadcastf32x8", "Vbroadcastf64x4", "Vbroadcasti32x8", "Vbroadcasti64x4");
        foreach (string widths in new[] { "bw", "bd", "bq", "wd", "wq", "dq" })
            AddNamed(PropagationRule.Widen, $"Pmovzx{widths}", $"Pmovsx{widths}", $"Vpmovzx{widths}", $"Vpmovsx{widths}");
        AddNamed(PropagationRule.CompressOrExpand, "Vpcompressb", "Vpcompressw", "Vpcompressd", "Vpcompressq", "Vcompressps", "Vcompresspd",
            "Vpexpandb", "Vpexpandw", "Vpexpandd", "Vpexpandq", "Vexpandps", "Vexpandpd");
        AddNamed(PropagationRule.Duplicate, "Movddup", "Vmovddup", "Movshdup", "Vmovshdup", "Movsldup", "Vmovsldup");
        foreach (string widths in new[] { "qd", "qw", "qb", "dw", "db", "wb" })
            AddNamed(PropagationRule.Narrow, $"Vpmov{widths}", $"Vpmovs{widths}", $"Vpmovus{widths}");
        foreach (string shape in new[] { "dd", "dq", "qd", "qq" })
        {
            AddNamed(PropagationRule.Gather, $"Vpgather{shape}");
            AddNamed(PropagationRule.Scatter, $"Vpscatter{shape}");
        }
        foreach (string shape in new[] { "dps", "dpd", "qps", "qpd" })
        {
            AddNamed(PropagationRule.Gather, $"Vgather{shape}");
            AddNamed(PropagationRule.Scatter, $"Vscatter{shape}");
        }
        AddNamed(PropagationRule.ShuffleImmediate, "Pshufd", "Vpshufd", "Pshuflw", "Vpshuflw", "Pshufhw", "Vpshufhw");
        AddNamed(PropagationRule.Scalar, "Addss", "Addsd", "Subss", "Subsd", "Mulss", "Mulsd", "Divss", "Divsd", "Minss", "Minsd",
            "Maxss", "Maxsd", "Sqrtss", "Sqrtsd", "Vaddss", "Vaddsd", "Vsubss", "Vsubsd", "Vmulss", "Vmulsd", "Vdivss", "Vdivsd",
            "Vminss", "Vminsd", "Vmaxss", "Vmaxsd", "Vsqrtss", "Vsqrtsd", "Vfmadd132sd", "Vfmadd213sd", "Vfmadd231sd",
            "Vfmadd132ss", "Vfmadd213ss", "Vfmadd231ss", "Cvtss2sd", "Cvtsd2ss", "Vcvtss2sd", "Vcvtsd2ss");
        return t;
    }
}
