using Checker.Symbols.Native;

namespace Checker.Symbols.Unwinding;

/// <summary>
/// Evaluates the DWARF expressions CFI rules use (DWARF 5 section 2.5): register+offset CFAs
/// (which libdw hands over as DW_OP_bregx), DW_OP_call_frame_cfa-relative register rules, and the
/// small arithmetic of expression rules (e.g. the PLT's CFA, rsp + 8 + 8 * (rip &amp; 15 &gt;= 11)).
/// </summary>
internal static class DwarfExpression
{
    private const byte DW_OP_addr = 0x03;
    private const byte DW_OP_deref = 0x06;
    private const byte DW_OP_const1u = 0x08;
    private const byte DW_OP_consts = 0x11;
    private const byte DW_OP_dup = 0x12;
    private const byte DW_OP_drop = 0x13;
    private const byte DW_OP_over = 0x14;
    private const byte DW_OP_swap = 0x16;
    private const byte DW_OP_abs = 0x19;
    private const byte DW_OP_and = 0x1a;
    private const byte DW_OP_minus = 0x1c;
    private const byte DW_OP_mul = 0x1e;
    private const byte DW_OP_neg = 0x1f;
    private const byte DW_OP_not = 0x20;
    private const byte DW_OP_or = 0x21;
    private const byte DW_OP_plus = 0x22;
    private const byte DW_OP_plus_uconst = 0x23;
    private const byte DW_OP_shl = 0x24;
    private const byte DW_OP_shr = 0x25;
    private const byte DW_OP_shra = 0x26;
    private const byte DW_OP_xor = 0x27;
    private const byte DW_OP_eq = 0x29;
    private const byte DW_OP_ge = 0x2a;
    private const byte DW_OP_gt = 0x2b;
    private const byte DW_OP_le = 0x2c;
    private const byte DW_OP_lt = 0x2d;
    private const byte DW_OP_ne = 0x2e;
    private const byte DW_OP_lit0 = 0x30;
    private const byte DW_OP_lit31 = 0x4f;
    private const byte DW_OP_reg0 = 0x50;
    private const byte DW_OP_reg31 = 0x6f;
    private const byte DW_OP_breg0 = 0x70;
    private const byte DW_OP_breg31 = 0x8f;
    private const byte DW_OP_regx = 0x90;
    private const byte DW_OP_bregx = 0x92;
    private const byte DW_OP_nop = 0x96;
    private const byte DW_OP_call_frame_cfa = 0x9c;
    private const byte DW_OP_stack_value = 0x9f;

    /// <summary>
    /// Evaluates <paramref name="ops"/>. <paramref name="isValue"/> says the result is a value
    /// (DW_OP_stack_value, or a lone register operation: "in register N"), else it is the address
    /// where the value is saved. False on an unknown register, unreadable memory or an unsupported operation.
    /// </summary>
    public static bool TryEvaluate(ReadOnlySpan<DwarfOp> ops, UnwindRegisters registers, ulong? cfa, IMemoryReader memory,
        out ulong result, out bool isValue)
    {
        result = 0;
        isValue = false;
        Span<ulong> stack = stackalloc ulong[16];
        int depth = 0;

        for (int i = 0; i < ops.Length; i++)
        {
            DwarfOp op = ops[i];
            byte atom = op.Atom;
            ulong pushed;
            if (atom is >= DW_OP_lit0 and <= DW_OP_lit31)
            {
                pushed = (ulong)(atom - DW_OP_lit0);
            }
            else if (atom is >= DW_OP_breg0 and <= DW_OP_breg31 || atom == DW_OP_bregx)
            {
                int register = atom == DW_OP_bregx ? (int)op.Number : atom - DW_OP_breg0;
                ulong offset = atom == DW_OP_bregx ? op.Number2 : op.Number;
                if (registers[register] is not { } value) return false;
                pushed = value + offset;
            }
            else if (atom is >= DW_OP_reg0 and <= DW_OP_reg31 || atom == DW_OP_regx)
            {
                // "The value is in register N": only meaningful as the whole expression.
                int register = atom == DW_OP_regx ? (int)op.Number : atom - DW_OP_reg0;
                if (ops.Length != 1 || registers[register] is not { } value) return false;
                result = value;
                isValue = true;
                return true;
            }
            else
            {
                switch (atom)
                {
                    case DW_OP_call_frame_cfa:
                        if (cfa is not { } c) return false;
                        pushed = c;
                        break;
                    case DW_OP_addr:
                    case >= DW_OP_const1u and <= DW_OP_consts:
                        pushed = op.Number; // libdw stores signed constants sign-extended
                        break;
                    case DW_OP_stack_value:
                        if (i != ops.Length - 1 || depth == 0) return false;
                        result = stack[depth - 1];
                        isValue = true;
                        return true;
                    case DW_OP_nop:
                        continue;
                    case DW_OP_dup:
                        if (depth < 1) return false;
                        pushed = stack[depth - 1];
                        break;
                    case DW_OP_over:
                        if (depth < 2) return false;
                        pushed = stack[depth - 2];
                        break;
                    case DW_OP_drop:
                        if (depth < 1) return false;
                        depth--;
                        continue;
                    case DW_OP_swap:
                        if (depth < 2) return false;
                        (stack[depth - 1], stack[depth - 2]) = (stack[depth - 2], stack[depth - 1]);
                        continue;
                    case DW_OP_deref:
                        if (depth < 1 || !memory.TryReadUInt64(stack[depth - 1], out ulong loaded)) return false;
                        stack[depth - 1] = loaded;
                        continue;
                    case DW_OP_plus_uconst:
                        if (depth < 1) return false;
                        stack[depth - 1] += op.Number;
                        continue;
                    case DW_OP_neg or DW_OP_not or DW_OP_abs:
                        if (depth < 1) return false;
                        long top = (long)stack[depth - 1];
                        stack[depth - 1] = atom switch
                        {
                            DW_OP_neg => (ulong)-top,
                            DW_OP_not => ~(ulong)top,
                            _ => (ulong)Math.Abs(top),
                        };
                        continue;
                    default:
                        if (!TryBinary(atom, stack, ref depth)) return false;
                        continue;
                }
            }

            if (depth == stack.Length) return false;
            stack[depth++] = pushed;
        }

        if (depth == 0) return false;
        result = stack[depth - 1];
        return true;
    }

    private static bool TryBinary(byte atom, Span<ulong> stack, ref int depth)
    {
        if (depth < 2) return false;
        ulong b = stack[depth - 1], a = stack[depth - 2];
        ulong value;
        switch (atom)
        {
            case DW_OP_plus: value = a + b; break;
            case DW_OP_minus: value = a - b; break;
            case DW_OP_mul: value = a * b; break;
            case DW_OP_and: value = a & b; break;
            case DW_OP_or: value = a | b; break;
            case DW_OP_xor: value = a ^ b; break;
            case DW_OP_shl: value = b >= 64 ? 0 : a << (int)b; break;
            case DW_OP_shr: value = b >= 64 ? 0 : a >> (int)b; break;
            case DW_OP_shra: value = (ulong)((long)a >> (int)Math.Min(b, 63)); break;
            // Comparisons are signed (DWARF 5 2.5.1.4).
            case DW_OP_eq: value = a == b ? 1UL : 0; break;
            case DW_OP_ne: value = a != b ? 1UL : 0; break;
            case DW_OP_ge: value = (long)a >= (long)b ? 1UL : 0; break;
            case DW_OP_gt: value = (long)a > (long)b ? 1UL : 0; break;
            case DW_OP_le: value = (long)a <= (long)b ? 1UL : 0; break;
            case DW_OP_lt: value = (long)a < (long)b ? 1UL : 0; break;
            default: return false;
        }
        depth--;
        stack[depth - 1] = value;
        return true;
    }
}
