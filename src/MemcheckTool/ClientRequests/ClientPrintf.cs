using System.Globalization;
using System.Text;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// printf formatting for VALGRIND_PRINTF and VALGRIND_PRINTF_BACKTRACE: the program's format string
/// with its own va_list, as C's printf reads them: flags (<c>-+ #0</c>, and <c>'</c> or <c>,</c> for
/// thousands groups as Valgrind's printf has), width and precision (digits or <c>*</c>), the length
/// modifiers (hh h l ll q j z t L) and the conversions d i u o x X c s p f F e E g G and %%. %p is
/// Valgrind's (<c>0x</c> and hex, <c>0x0</c> for NULL), a NULL %s is <c>(null)</c>, %n writes
/// nothing, an unknown conversion is copied as it stands. Works on bytes, as C does: the result's
/// length is what the request returns.
/// </summary>
public static class ClientPrintf
{
    private const int MaxString = 1 << 16;

    /// <summary>Formats <paramref name="format"/>; strings (%s) are read through <paramref name="readString"/> (null: unreadable).</summary>
    public static byte[] Format(ReadOnlySpan<byte> format, IVarArgs args, Func<ulong, int, byte[]?> readString)
    {
        var output = new List<byte>(format.Length + 32);
        int i = 0;
        while (i < format.Length)
        {
            byte b = format[i];
            if (b != '%')
            {
                output.Add(b);
                i++;
                continue;
            }
            int start = i++;
            var spec = new Spec();
            while (i < format.Length && "-+ #0',"u8.IndexOf(format[i]) is int flag && flag >= 0)
            {
                switch (format[i])
                {
                    case (byte)'-': spec.Left = true; break;
                    case (byte)'+': spec.Plus = true; break;
                    case (byte)' ': spec.Space = true; break;
                    case (byte)'#': spec.Alternate = true; break;
                    case (byte)'0': spec.Zero = true; break;
                    default: spec.Grouping = true; break;
                }
                i++;
            }
            if (i < format.Length && format[i] == '*')
            {
                long width = (int)args.NextInteger();
                if (width < 0) { spec.Left = true; width = -width; }
                spec.Width = (int)Math.Min(width, 4096);
                i++;
            }
            else spec.Width = Number(format, ref i);
            if (i < format.Length && format[i] == '.')
            {
                i++;
                if (i < format.Length && format[i] == '*')
                {
                    int precision = (int)args.NextInteger();
                    spec.Precision = precision < 0 ? null : Math.Min(precision, 4096);
                    i++;
                }
                else spec.Precision = Number(format, ref i);
            }
            spec.Size = Length(format, ref i);
            if (i >= format.Length)
            {
                output.AddRange(format[start..].ToArray());
                break;
            }
            byte conversion = format[i++];
            if (!Convert(conversion, spec, args, readString, output)) output.AddRange(format[start..i].ToArray());
        }
        return output.ToArray();
    }

    private sealed class Spec
    {
        public bool Left, Plus, Space, Alternate, Zero, Grouping;
        public int Width;
        public int? Precision;
        /// <summary>The argument's size in bytes for integers (hh 1, h 2, none 4, l/ll/j/z/t 8), 16 for L.</summary>
        public int Size = 4;
    }

    private static int Number(ReadOnlySpan<byte> format, ref int i)
    {
        int n = 0;
        while (i < format.Length && format[i] is >= (byte)'0' and <= (byte)'9')
        {
            n = Math.Min(n * 10 + (format[i] - '0'), 4096);
            i++;
        }
        return n;
    }

    private static int Length(ReadOnlySpan<byte> format, ref int i)
    {
        if (i >= format.Length) return 4;
        switch (format[i])
        {
            case (byte)'h':
                i++;
                if (i < format.Length && format[i] == 'h') { i++; return 1; }
                return 2;
            case (byte)'l':
                i++;
                if (i < format.Length && format[i] == 'l') i++;
                return 8;
            case (byte)'q' or (byte)'j' or (byte)'z' or (byte)'t':
                i++;
                return 8;
            case (byte)'L':
                i++;
                return 16;
            default:
                return 4;
        }
    }

    private static bool Convert(byte conversion, Spec spec, IVarArgs args, Func<ulong, int, byte[]?> readString, List<byte> output)
    {
        switch (conversion)
        {
            case (byte)'%':
                output.Add((byte)'%');
                return true;
            case (byte)'d' or (byte)'i':
            {
                ulong raw = args.NextInteger();
                long value = spec.Size switch { 1 => (sbyte)raw, 2 => (short)raw, 4 => (int)raw, _ => (long)raw };
                string digits = Digits(value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value, 10, false, spec);
                Pad(output, value < 0 ? "-" : spec.Plus ? "+" : spec.Space ? " " : "", digits, spec, IntegerZeros(spec));
                return true;
            }
            case (byte)'u' or (byte)'x' or (byte)'X' or (byte)'o':
            {
                ulong value = Truncate(args.NextInteger(), spec.Size);
                int radix = conversion == 'o' ? 8 : conversion == 'u' ? 10 : 16;
                string digits = Digits(value, radix, conversion == 'X', spec);
                string prefix = spec.Alternate && value != 0 && radix == 16 ? (conversion == 'X' ? "0X" : "0x") : "";
                if (spec.Alternate && radix == 8 && !digits.StartsWith('0')) digits = "0" + digits;
                Pad(output, prefix, digits, spec, IntegerZeros(spec));
                return true;
            }
            case (byte)'p':
                Pad(output, "0x", args.NextInteger().ToString("x", CultureInfo.InvariantCulture), spec, IntegerZeros(spec));
                return true;
            case (byte)'c':
                Pad(output, "", [(byte)args.NextInteger()], spec);
                return true;
            case (byte)'s':
            {
                ulong address = args.NextInteger();
                int max = spec.Precision ?? MaxString;
                byte[] text = address == 0 ? "(null)"u8.ToArray() : readString(address, max) ?? "(unreadable)"u8.ToArray();
                if (text.Length > max) text = text[..max];
                Pad(output, "", text, spec);
                return true;
            }
            case (byte)'f' or (byte)'F' or (byte)'e' or (byte)'E' or (byte)'g' or (byte)'G':
            {
                double value = args.NextDouble();
                string sign = double.IsNegative(value) ? "-" : spec.Plus ? "+" : spec.Space ? " " : "";
                string body = FloatBody(Math.Abs(value), (char)conversion, spec);
                Pad(output, sign, body, spec, spec.Zero && !spec.Left && double.IsFinite(value));
                return true;
            }
            case (byte)'n':
                args.NextInteger();   // never written: the request only prints
                return true;
            default:
                return false;
        }
    }

    private static ulong Truncate(ulong value, int size) => size switch
    {
        1 => (byte)value, 2 => (ushort)value, 4 => (uint)value, _ => value,
    };

    private static string Digits(ulong value, int radix, bool upper, Spec spec)
    {
        string digits = radix switch
        {
            16 => value.ToString(upper ? "X" : "x", CultureInfo.InvariantCulture),
            8 => System.Convert.ToString((long)value, 8),
            _ => value.ToString(CultureInfo.InvariantCulture),
        };
        if (spec.Precision == 0 && value == 0) digits = "";
        if (spec.Grouping && radix == 10) digits = Group(digits);
        if (spec.Precision is int p && digits.Length < p) digits = new string('0', p - digits.Length) + digits;
        return digits;
    }

    private static string Group(string digits)
    {
        var grouped = new StringBuilder();
        for (int k = 0; k < digits.Length; k++)
        {
            if (k > 0 && (digits.Length - k) % 3 == 0) grouped.Append(',');
            grouped.Append(digits[k]);
        }
        return grouped.ToString();
    }

    private static string FloatBody(double value, char conversion, Spec spec)
    {
        bool upper = char.IsUpper(conversion);
        if (double.IsNaN(value)) return upper ? "NAN" : "nan";
        if (double.IsInfinity(value)) return upper ? "INF" : "inf";
        int precision = spec.Precision ?? 6;
        string body = char.ToLowerInvariant(conversion) switch
        {
            'f' => Fixed(value, precision, spec.Alternate),
            'e' => Exponent(value, precision, spec.Alternate),
            _ => General(value, precision, spec.Alternate),
        };
        return upper ? body.ToUpperInvariant() : body;
    }

    private static string Fixed(double value, int precision, bool point)
    {
        string s = value.ToString("F" + precision, CultureInfo.InvariantCulture);
        return point && precision == 0 ? s + "." : s;
    }

    private static string Exponent(double value, int precision, bool point)
    {
        string s = value.ToString((precision == 0 ? "0" : "0." + new string('0', precision)) + "e+00", CultureInfo.InvariantCulture);
        return point && precision == 0 ? s.Insert(1, ".") : s;
    }

    /// <summary>%g as C defines it: %e when the exponent is below -4 or at least the precision, else %f; trailing zeros dropped unless #.</summary>
    private static string General(double value, int precision, bool alternate)
    {
        int p = precision == 0 ? 1 : precision;
        int exponent = value == 0 ? 0 : int.Parse(value.ToString("0." + new string('0', p - 1) + "e+0", CultureInfo.InvariantCulture).Split('e')[1], CultureInfo.InvariantCulture);
        string s = exponent < -4 || exponent >= p ? Exponent(value, p - 1, alternate) : Fixed(value, p - 1 - exponent, alternate);
        if (alternate) return s;
        int e = s.IndexOf('e');
        string mantissa = e >= 0 ? s[..e] : s, rest = e >= 0 ? s[e..] : "";
        if (mantissa.Contains('.')) mantissa = mantissa.TrimEnd('0').TrimEnd('.');
        return mantissa + rest;
    }

    // C ignores 0 with - and, for integers, with a precision.
    private static bool IntegerZeros(Spec spec) => spec.Zero && !spec.Left && spec.Precision == null;

    private static void Pad(List<byte> output, string prefix, string body, Spec spec, bool zeros = false) =>
        Pad(output, prefix, Encoding.ASCII.GetBytes(body), spec, zeros);

    /// <summary>Width: spaces before (or after, with -), or zeros between the sign or 0x and the digits.</summary>
    private static void Pad(List<byte> output, string prefix, byte[] body, Spec spec, bool zeros = false)
    {
        int padding = Math.Max(0, spec.Width - prefix.Length - body.Length);
        if (!spec.Left && !zeros) output.AddRange(Enumerable.Repeat((byte)' ', padding));
        output.AddRange(Encoding.ASCII.GetBytes(prefix));
        if (zeros) output.AddRange(Enumerable.Repeat((byte)'0', padding));
        output.AddRange(body);
        if (spec.Left) output.AddRange(Enumerable.Repeat((byte)' ', padding));
    }
}
