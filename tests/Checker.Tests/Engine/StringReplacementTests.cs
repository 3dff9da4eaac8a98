using Checker.MemcheckTool.Replacements;
using Checker.Symbols.Elf;
using Checker.Tests.Elf;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// libchecker-replace.so (the guest-side string routines): same results as glibc, no access outside
/// what the C semantics allows, glibc's bytes after an overlapping copy wherever glibc's are not an
/// accident of its vector code, exactly the exports <see cref="StringReplacements"/> names (and the
/// overlap hook), and every instruction inside one of them (so reports name the routine).
/// How their errors are reported under memcheck: <see cref="StringReplacementReportTests"/>.
/// </summary>
public class StringReplacementTests
{
    [Fact]
    public void LibraryIsBuiltNextToTheBinary() =>
        Assert.True(File.Exists(StringReplacements.LibraryPath), $"{StringReplacements.LibraryPath} is missing");

    [Fact]
    public void MatchesGlibcAndNeverReadsOutsideTheSemantics()
    {
        using var compiler = new CCompiler();
        string harness = compiler.Compile("string_harness", Harness, "-O1", "-g", "-fno-builtin", "-Wall");
        // glibc's memmove takes its non-temporal path from 16 KB instead of ~100 MB, so that path's
        // handling of overlap is compared too.
        RunResult run = ProcessRunner.Run(harness, [StringReplacements.LibraryPath],
            environment: new Dictionary<string, string?> { ["GLIBC_TUNABLES"] = "glibc.cpu.x86_non_temporal_threshold=0x4040" });
        string[] mismatches = run.StdoutText.Split('\n').Where(l => l.StartsWith("MISMATCH", StringComparison.Ordinal)).ToArray();
        Assert.True(run.ExitCode == 0 && mismatches.Length == 0,
            $"harness exit {run.ExitCode}:\n{run.StdoutText}{run.StderrText}");
        Assert.Contains(" 0 mismatches", run.StdoutText);
        Assert.Contains("overlap: glibc differs from memmove on ", run.StdoutText);
    }

    [Fact]
    public void ExportsExactlyTheTableAsFunctions()
    {
        var exported = DynamicSymbols(ElfImage.Open(StringReplacements.LibraryPath))
            .Where(s => s.Defined && s.Binding != ElfSymbolBinding.Local)
            .ToList();
        Assert.All(exported, s => Assert.Equal(ElfSymbolType.Func, s.Type));
        Assert.Equal(StringReplacements.FunctionNames.Append(OverlapHook.SymbolName).Order(StringComparer.Ordinal),
            exported.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.Equal(StringReplacements.FunctionNames.Count, StringReplacements.FunctionNames.Distinct().Count());
    }

    /// <summary>
    /// No PLT and nothing undefined: gcc turned no loop into a call. -z defs only catches calls to
    /// names the object does not define; a loop turned into a call to memset would bind to our own
    /// exported memset through the PLT and link fine.
    /// </summary>
    [Fact]
    public void CallsNothingOutsideItself()
    {
        ElfImage image = ElfImage.Open(StringReplacements.LibraryPath);
        Assert.Empty(DynamicSymbols(image).Where(s => !s.Defined).Select(s => s.Name));
        Assert.Empty(image.Sections.Where(s => s.Name is ".plt" or ".plt.got" or ".plt.sec" or ".rela.plt").Select(s => s.Name));
    }

    /// <summary>
    /// Reports name a frame in the object by the exported function holding its pc
    /// (Memcheck's ReplacementFrames), so no code may lie outside them: no static helper kept out of
    /// line (they would be local function symbols), no function folded into another, nothing between
    /// functions but alignment padding.
    /// </summary>
    [Fact]
    public void EveryInstructionBelongsToAnExportedFunction()
    {
        ElfImage image = ElfImage.Open(StringReplacements.LibraryPath);
        var functions = image.ReadSymbols().Where(s => s.Type == ElfSymbolType.Func && s.IsDefined).OrderBy(s => s.Value).ToList();
        Assert.Empty(functions.Where(s => s.Binding == ElfSymbolBinding.Local).Select(s => s.Name));
        Assert.Equal(StringReplacements.FunctionNames.Count + 1, functions.Count);
        ElfSection text = image.FindSection(".text") ?? throw new InvalidOperationException("no .text");
        ulong covered = text.Address;
        foreach (ElfSymbol function in functions)
        {
            Assert.True(function.Value >= covered && function.Value - covered < 16,
                $"{function.Name} at 0x{function.Value:x}: 0x{function.Value - covered:x} bytes after the previous function's end");
            covered = function.Value + function.Size;
        }
        Assert.True(text.Address + text.Size - covered < 16, $".text ends 0x{text.Address + text.Size - covered:x} bytes after the last function");
    }

    private sealed record DynamicSymbol(string Name, ElfSymbolType Type, ElfSymbolBinding Binding, bool Defined);

    /// <summary>The entries of .dynsym (ReadSymbols prefers .symtab, which the unstripped object also has).</summary>
    private static List<DynamicSymbol> DynamicSymbols(ElfImage image)
    {
        ElfSection dynsym = image.FindSection(".dynsym") ?? throw new InvalidOperationException("no .dynsym");
        ReadOnlySpan<byte> table = image.GetSectionData(dynsym);
        ReadOnlySpan<byte> strings = image.GetSectionData(image.Sections[(int)dynsym.Link]);
        var symbols = new List<DynamicSymbol>();
        const int size = ElfConstants.SymSize;
        for (int o = size; o + size <= table.Length; o += size)  // entry 0 is the null symbol
        {
            int nameOffset = (int)BitConverter.ToUInt32(table[o..]);
            ReadOnlySpan<byte> name = strings[nameOffset..];
            name = name[..name.IndexOf((byte)0)];
            byte info = table[o + 4];
            ushort section = BitConverter.ToUInt16(table[(o + 6)..]);
            symbols.Add(new DynamicSymbol(System.Text.Encoding.ASCII.GetString(name), (ElfSymbolType)(info & 0xf),
                (ElfSymbolBinding)(info >> 4), section != ElfConstants.SHN_UNDEF));
        }
        return symbols;
    }

    /// <summary>
    /// dlopen()s the library (argv[1]) and runs every replacement next to glibc's function on the
    /// same inputs, with each input flush against a PROT_NONE page so over-reads fault.
    /// </summary>
    private const string Harness =
        """
        // Compares libchecker-replace.so (argv[1]) with glibc. Every string and buffer is placed either
        // flush against a PROT_NONE page after it, or right after a PROT_NONE page before it, so a
        // replacement that reads (or writes) one byte outside what the C semantics allows faults; the
        // SIGSEGV handler names the call. Prints one line per mismatch; exits non-zero on any.
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <limits.h>
        #include <signal.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <strings.h>
        #include <sys/mman.h>
        #include <unistd.h>
        #include <wchar.h>

        typedef unsigned char uchar;
        #define PAGE 4096

        // ---- replacements, looked up with dlsym ----
        #define FUNCTIONS(X) X(memcpy) X(memmove) X(mempcpy) X(memccpy) X(memset) X(memcmp) X(bcmp) X(memchr) X(memrchr) \
            X(rawmemchr) X(strlen) X(strnlen) X(strchr) X(strrchr) X(strchrnul) X(strcmp) X(strncmp) X(strcasecmp) \
            X(strncasecmp) X(strcpy) X(strncpy) X(stpcpy) X(stpncpy) X(strcat) X(strncat) X(strstr) X(strspn) \
            X(strcspn) X(strpbrk) X(wcslen) X(wcsnlen) X(wcscmp) X(wcschr) X(wmemset) X(wmemcpy) X(wmemchr) \
            X(wcscpy) X(wcpcpy) X(wcscat) X(wcsrchr) X(wcsncmp) X(wmemcmp)
        #define DECLARE(f) static __typeof__(&f) r_##f;
        FUNCTIONS(DECLARE)

        // ---- reporting ----
        static int failures;
        static long calls;
        static const char *cur = "";
        static long cur_a, cur_b, cur_c, cur_d;

        static void at(const char *name, long a, long b, long c, long d)
        {
            cur = name; cur_a = a; cur_b = b; cur_c = c; cur_d = d;
            calls++;
        }

        static void fail(const char *what)
        {
            if (failures++ < 300)
                printf("MISMATCH %s: %s (args %ld %ld %ld %ld)\n", cur, what, cur_a, cur_b, cur_c, cur_d);
        }

        static void on_fault(int sig, siginfo_t *info, void *context)
        {
            (void)context;
            char line[256];
            int n = snprintf(line, sizeof line, "MISMATCH %s: signal %d at %p (args %ld %ld %ld %ld): read or write outside the allowed range\n",
                             cur, sig, info->si_addr, cur_a, cur_b, cur_c, cur_d);
            fflush(stdout);
            if (write(1, line, (size_t)n) < 0) {}
            _exit(3);
        }

        static int sign(long v) { return (v > 0) - (v < 0); }
        static void check_sign(long mine, long ref) { if (sign(mine) != sign(ref)) fail("sign of the result differs"); }
        static void check_eq(long mine, long ref, const char *what) { if (mine != ref) { char m[160]; snprintf(m, sizeof m, "%s: %ld, glibc %ld", what, mine, ref); fail(m); } }
        static void check_ptr(const void *mine, const void *ref) { check_eq(mine ? (long)((uintptr_t)mine & 0xffffffffffff) : -1, ref ? (long)((uintptr_t)ref & 0xffffffffffff) : -1, "pointer"); }

        // ---- guarded areas: [PROT_NONE page][PAGE read-write][PROT_NONE page] ----
        typedef struct { uchar *lo, *hi; } area;

        static area make_area(void)
        {
            uchar *m = mmap(NULL, 3 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED || mprotect(m + PAGE, PAGE, PROT_READ | PROT_WRITE) != 0) { perror("mmap"); exit(2); }
            return (area){ m + PAGE, m + 2 * PAGE };
        }

        static area A, B, D_MINE, D_REF;

        // Places `size` bytes in area x: placement 0..15 = that offset after the guard page before,
        // placement 16 = flush against the guard page after.
        #define PLACEMENTS 17
        static uchar *place(area x, int placement, size_t size)
        {
            return placement == PLACEMENTS - 1 ? x.hi - size : x.lo + placement;
        }

        // String content: never 0, never the search targets '#' and 0xff; includes bytes >= 0x80.
        static const uchar ALPHABET[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@[`{\x80\x9f\xa0\xc0\xc9\xe0\xe9\xfe";
        #define NALPHA (sizeof ALPHABET - 1)
        static void content(uchar *p, size_t n, unsigned seed)
        {
            for (size_t i = 0; i < n; i++) p[i] = ALPHABET[(i * 7 + seed * 13) % NALPHA];
        }
        static uchar *put_string(area x, int placement, size_t len, unsigned seed)
        {
            uchar *s = place(x, placement, len + 1);
            content(s, len, seed);
            s[len] = 0;
            return s;
        }

        static void reset_destinations(void)
        {
            for (int i = 0; i < PAGE; i++) D_MINE.lo[i] = D_REF.lo[i] = (uchar)(i * 31 + 17);
        }
        static void check_destinations(void)
        {
            for (int i = 0; i < PAGE; i++)
                if (D_MINE.lo[i] != D_REF.lo[i]) {
                    char m[96];
                    snprintf(m, sizeof m, "destination byte at page offset %d is %#x, glibc %#x", i, D_MINE.lo[i], D_REF.lo[i]);
                    fail(m);
                    return;
                }
        }
        // The same position in the other destination area.
        static uchar *ref_of(uchar *mine) { return D_REF.lo + (mine - D_MINE.lo); }
        static void check_dst_ret(const void *mine, const void *ref)
        {
            long m = mine ? (const uchar *)mine - D_MINE.lo : -100000, r = ref ? (const uchar *)ref - D_REF.lo : -100000;
            check_eq(m, r, "returned destination offset");
        }

        #define MAXLEN 70
        // Values of n around a length: before, at, after it, and far beyond (reads must stop at the NUL).
        static int n_values(size_t len, size_t *out, int with_huge)
        {
            size_t cand[] = { 0, 1, 2, len / 2, len - 1, len, len + 1, len + 2, len + 9, 200, SIZE_MAX };
            int k = 0;
            for (size_t i = 0; i < sizeof cand / sizeof *cand; i++) {
                size_t v = cand[i];
                if (v == SIZE_MAX && !with_huge) continue;
                if (v > len + 300 && v != SIZE_MAX) continue;
                int dup = 0;
                for (int j = 0; j < k; j++) dup |= out[j] == v;
                if (!dup) out[k++] = v;
            }
            return k;
        }

        // ---------------------------------------------------------------------------------------------

        static void test_lengths(void)
        {
            size_t ns[16];
            for (size_t len = 0; len <= MAXLEN; len++)
                for (int pl = 0; pl < PLACEMENTS; pl++) {
                    const char *s = (const char *)put_string(A, pl, len, (unsigned)pl);
                    at("strlen", (long)len, pl, 0, 0);
                    check_eq((long)r_strlen(s), (long)strlen(s), "length");
                    int k = n_values(len, ns, 1);
                    for (int i = 0; i < k; i++) {
                        at("strnlen", (long)len, pl, (long)ns[i], 0);
                        check_eq((long)r_strnlen(s, ns[i]), (long)strnlen(s, ns[i]), "length");
                    }
                }
            // Unterminated: exactly n readable bytes, none of them NUL.
            for (size_t n = 0; n <= MAXLEN; n++) {
                uchar *p = A.hi - n;
                content(p, n, 3);
                at("strnlen(unterminated)", (long)n, 0, 0, 0);
                check_eq((long)r_strnlen((char *)p, n), (long)n, "length");
            }
        }

        static void test_byte_searches(void)
        {
            const int cs[] = { '#', '#' | 0x100, -1 };  // '#', '#' with high bits (converted), 0xff as -1
            for (size_t n = 0; n <= MAXLEN; n++)
                for (int pl = 0; pl < PLACEMENTS; pl++)
                    for (int ci = 0; ci < 3; ci++) {
                        int c = cs[ci];
                        uchar target = (uchar)c;
                        uchar *p = place(A, pl, n);
                        // k == n: absent.
                        for (size_t k = 0; k <= n; k++) {
                            content(p, n, (unsigned)k);
                            if (k < n) p[k] = target;
                            if (k + 3 < n) p[k + 3] = target;  // a later match too: first/last matter
                            at("memchr", (long)n, pl, c, (long)k);
                            check_ptr(r_memchr(p, c, n), memchr(p, c, n));
                            at("memrchr", (long)n, pl, c, (long)k);
                            check_ptr(r_memrchr(p, c, n), memrchr(p, c, n));
                            if (k < n) {
                                at("rawmemchr", (long)n, pl, c, (long)k);
                                check_ptr(r_rawmemchr(p, c), rawmemchr(p, c));
                            }
                        }
                    }
            // The match is the last readable byte and n claims more: memchr must stop at the match.
            for (size_t k = 0; k <= MAXLEN; k++) {
                uchar *p = A.hi - (k + 1);
                content(p, k, 1);
                p[k] = '#';
                at("memchr(n beyond the match)", (long)k, 0, 0, 0);
                check_ptr(r_memchr(p, '#', k + 1 + 5000), p + k);
                at("rawmemchr(match last)", (long)k, 0, 0, 0);
                check_ptr(r_rawmemchr(p, '#'), p + k);
                p[k] = 0;
                at("rawmemchr(0)", (long)k, 0, 0, 0);
                check_ptr(r_rawmemchr(p, 0), p + k);
                // memrchr reads backwards: match at the first readable byte.
                uchar *q = A.lo;
                content(q, k + 1, 2);
                q[0] = '#';
                at("memrchr(match first)", (long)k, 0, 0, 0);
                check_ptr(r_memrchr(q, '#', k + 1), q);
            }
        }

        static void test_string_searches(void)
        {
            const int cs[] = { '#', '#' | 0x100, -1, 0xff, 0 };
            for (size_t len = 0; len <= MAXLEN; len++)
                for (int pl = 0; pl < PLACEMENTS; pl++)
                    for (int ci = 0; ci < 5; ci++) {
                        int c = cs[ci];
                        // k == len: not in the string (or, for c == 0, only the terminator).
                        for (size_t k = 0; k <= len; k++) {
                            char *s = (char *)put_string(A, pl, len, (unsigned)k);
                            if (c != 0 && k < len) {
                                s[k] = (char)c;
                                if (k / 2 < k) s[k / 2] = (char)c;  // an earlier one: strrchr must find k
                            }
                            at("strchr", (long)len, pl, c, (long)k);
                            check_ptr(r_strchr(s, c), strchr(s, c));
                            at("strchrnul", (long)len, pl, c, (long)k);
                            check_ptr(r_strchrnul(s, c), strchrnul(s, c));
                            at("strrchr", (long)len, pl, c, (long)k);
                            check_ptr(r_strrchr(s, c), strrchr(s, c));
                            if (c == 0) break;
                        }
                    }
        }

        // Variants of a second string s2 made from s1 (length len): returns s2's length.
        // v 0: equal; 1: s2 a prefix (len/2); 2: s2 longer; 3..: differ at position k with various bytes.
        static const uchar DIFF_BYTES[] = { 'A', 'z', 0x80, 0xff, 0x01, 0xe9 };
        #define NDIFF (sizeof DIFF_BYTES)

        static void test_comparisons(void)
        {
            size_t ns[16];
            const int pls[][2] = { { 16, 16 }, { 0, 0 }, { 1, 3 }, { 7, 0 }, { 5, 13 }, { 16, 2 }, { 9, 16 } };
            for (size_t len = 0; len <= MAXLEN; len++)
                for (size_t pi = 0; pi < sizeof pls / sizeof *pls; pi++)
                    for (int v = 0; v < 3 + (int)(NDIFF * (len + 1)); v++) {
                        size_t len2 = v == 1 ? len / 2 : v == 2 ? len + 5 : len;
                        size_t k = v >= 3 ? (size_t)(v - 3) / NDIFF : 0;
                        uchar diff = v >= 3 ? DIFF_BYTES[(v - 3) % NDIFF] : 0;
                        if (v >= 3 && k >= len) continue;
                        char *s1 = (char *)put_string(A, pls[pi][0], len, 5);
                        char *s2 = (char *)place(B, pls[pi][1], len2 + 1);
                        content((uchar *)s2, len2, 5);
                        s2[len2] = 0;
                        if (v >= 3) s2[k] = (char)diff;
                        if (v == 2) s2[len] = 'x';
                        // Flip the case of every other letter of s2 for the case-insensitive pair.
                        char *s2c = (char *)place(D_MINE, pls[pi][1], len2 + 1);
                        memcpy(s2c, s2, len2 + 1);
                        for (size_t i = 0; i < len2; i += 2)
                            if ((s2c[i] >= 'a' && s2c[i] <= 'z') || (s2c[i] >= 'A' && s2c[i] <= 'Z')) s2c[i] ^= 0x20;

                        at("strcmp", (long)len, (long)pi, v, 0);
                        check_sign(r_strcmp(s1, s2), strcmp(s1, s2));
                        at("strcmp(reversed)", (long)len, (long)pi, v, 0);
                        check_sign(r_strcmp(s2, s1), strcmp(s2, s1));
                        at("strcasecmp", (long)len, (long)pi, v, 0);
                        check_sign(r_strcasecmp(s1, s2c), strcasecmp(s1, s2c));
                        at("strcasecmp(reversed)", (long)len, (long)pi, v, 0);
                        check_sign(r_strcasecmp(s2c, s1), strcasecmp(s2c, s1));
                        int kn = n_values(len, ns, 1);
                        for (int i = 0; i < kn; i++) {
                            at("strncmp", (long)len, (long)pi, v, (long)ns[i]);
                            check_sign(r_strncmp(s1, s2, ns[i]), strncmp(s1, s2, ns[i]));
                            check_sign(r_strncmp(s2, s1, ns[i]), strncmp(s2, s1, ns[i]));
                            at("strncasecmp", (long)len, (long)pi, v, (long)ns[i]);
                            check_sign(r_strncasecmp(s1, s2c, ns[i]), strncasecmp(s1, s2c, ns[i]));
                            check_sign(r_strncasecmp(s2c, s1, ns[i]), strncasecmp(s2c, s1, ns[i]));
                        }
                        if (v == 1 || v == 2) continue;  // memcmp must not read past s2's block
                        // The same bytes without terminators as memory blocks of len bytes.
                        at("memcmp", (long)len, (long)pi, v, 0);
                        check_sign(r_memcmp(s1, s2, len), memcmp(s1, s2, len));
                        check_sign(r_memcmp(s2, s1, len), memcmp(s2, s1, len));
                        at("bcmp", (long)len, (long)pi, v, 0);
                        check_eq(r_bcmp(s1, s2, len) != 0, bcmp(s1, s2, len) != 0, "bcmp != 0");
                    }
            // Case folding around the letters' edges, and bytes >= 0x80 (C locale: no folding).
            const char *pairs[][2] = { { "@", "`" }, { "[", "{" }, { "Z", "z" }, { "A", "a" }, { "\xc0", "\xe0" }, { "_", "\x7f" },
                                       { "abc", "ABD" }, { "ABC", "abd" }, { "a", "" }, { "", "A" }, { "\xe9", "\xc9" } };
            for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
                size_t l1 = strlen(pairs[i][0]), l2 = strlen(pairs[i][1]);
                char *s1 = (char *)A.hi - (l1 + 1), *s2 = (char *)B.hi - (l2 + 1);
                memcpy(s1, pairs[i][0], l1 + 1);
                memcpy(s2, pairs[i][1], l2 + 1);
                at("strcasecmp(edges)", (long)i, 0, 0, 0);
                check_sign(r_strcasecmp(s1, s2), strcasecmp(s1, s2));
                check_sign(r_strcasecmp(s2, s1), strcasecmp(s2, s1));
                at("strncasecmp(edges)", (long)i, 0, 0, 0);
                check_sign(r_strncasecmp(s1, s2, 2), strncasecmp(s1, s2, 2));
            }
            // Unterminated: n readable bytes in each, equal, or differing only in the last byte.
            for (size_t n = 0; n <= MAXLEN; n++)
                for (int last = 0; last < 2; last++) {
                    uchar *p = A.hi - n, *q = B.hi - n;
                    content(p, n, 4);
                    content(q, n, 4);
                    if (last && n) q[n - 1] = 0xff;
                    int want = last && n ? -1 : 0;
                    at("strncmp(unterminated)", (long)n, last, 0, 0);
                    check_sign(r_strncmp((char *)p, (char *)q, n), want);
                    at("strncasecmp(unterminated)", (long)n, last, 0, 0);
                    check_sign(r_strncasecmp((char *)p, (char *)q, n), want);
                    at("memcmp(flush)", (long)n, last, 0, 0);
                    check_sign(r_memcmp(p, q, n), want);
                }
            // Word-sized memcmp over longer blocks, a difference at every position.
            for (size_t n = 71; n <= 300; n += 23)
                for (size_t k = 0; k <= n; k++) {
                    uchar *p = A.hi - n, *q = B.lo + (k & 7);
                    content(p, n, 6);
                    content(q, n, 6);
                    if (k < n) q[k] = (uchar)(p[k] ^ 0x81);
                    at("memcmp(long)", (long)n, (long)k, 0, 0);
                    check_sign(r_memcmp(p, q, n), memcmp(p, q, n));
                    check_sign(r_memcmp(q, p, n), memcmp(q, p, n));
                    at("bcmp(long)", (long)n, (long)k, 0, 0);
                    check_eq(r_bcmp(p, q, n) != 0, k < n, "bcmp != 0");
                }
        }

        static const size_t COPY_SIZES_EXTRA[] = { 71, 100, 255, 256, 257, 1000 };

        static void test_copies(void)
        {
            size_t nsizes = MAXLEN + 1 + sizeof COPY_SIZES_EXTRA / sizeof *COPY_SIZES_EXTRA;
            for (size_t si = 0; si < nsizes; si++) {
                size_t n = si <= MAXLEN ? si : COPY_SIZES_EXTRA[si - MAXLEN - 1];
                for (int sp = 0; sp < PLACEMENTS; sp++)
                    for (int dp = 0; dp < PLACEMENTS; dp++) {
                        uchar *src = place(A, sp, n);
                        content(src, n, (unsigned)(sp + dp));
                        uchar *d = place(D_MINE, dp, n);
                        for (int f = 0; f < 3; f++) {
                            reset_destinations();
                            void *mine, *ref;
                            if (f == 0) { at("memcpy", (long)n, sp, dp, 0); mine = r_memcpy(d, src, n); ref = memcpy(ref_of(d), src, n); }
                            else if (f == 1) { at("memmove", (long)n, sp, dp, 0); mine = r_memmove(d, src, n); ref = memmove(ref_of(d), src, n); }
                            else { at("mempcpy", (long)n, sp, dp, 0); mine = r_mempcpy(d, src, n); ref = mempcpy(ref_of(d), src, n); }
                            check_dst_ret(mine, ref);
                            check_destinations();
                        }
                        // memccpy: c at the first byte, in the middle, at the last, or absent (k == n).
                        const size_t ks[] = { 0, n / 2, n - 1, n };
                        for (int ki = 0; ki < 4; ki++) {
                            size_t k = ks[ki];
                            if (k > n || (ki < 3 && n == 0)) continue;
                            content(src, n, (unsigned)(sp + dp));
                            if (k < n) src[k] = '#';
                            if (k + 2 < n) src[k + 2] = '#';  // a later one too: the copy stops at the first
                            reset_destinations();
                            at("memccpy", (long)n, sp, dp, (long)k);
                            check_dst_ret(r_memccpy(d, src, '#' | 0x100, n), memccpy(ref_of(d), src, '#' | 0x100, n));
                            check_destinations();
                        }
                    }
            }
            // Overlapping moves in both directions: src and dst in the same area, at its edges and inside.
            for (size_t n = 0; n <= MAXLEN + 30; n++)
                for (int delta = -20; delta <= 20; delta++)
                    for (int where = 0; where < 10; where++) {
                        size_t span = n + (size_t)abs(delta);
                        uchar *lo = where == 0 ? D_MINE.lo : where == 1 ? D_MINE.hi - span : D_MINE.lo + 200 + where;
                        uchar *src = delta >= 0 ? lo : lo - delta, *dst = delta >= 0 ? lo + delta : lo;
                        reset_destinations();
                        at("memmove(overlap)", (long)n, delta, where, 0);
                        void *mine = r_memmove(dst, src, n), *ref = memmove(ref_of(dst), ref_of(src), n);
                        check_dst_ret(mine, ref);
                        check_destinations();
                    }
        }

        static void test_memset(void)
        {
            const int cs[] = { 0, 'A', 0xff, -1, 0x1ab, 0x80 };
            size_t nsizes = MAXLEN + 1 + sizeof COPY_SIZES_EXTRA / sizeof *COPY_SIZES_EXTRA;
            for (size_t si = 0; si < nsizes; si++) {
                size_t n = si <= MAXLEN ? si : COPY_SIZES_EXTRA[si - MAXLEN - 1];
                for (int dp = 0; dp < PLACEMENTS; dp++)
                    for (int ci = 0; ci < 6; ci++) {
                        uchar *d = place(D_MINE, dp, n);
                        reset_destinations();
                        at("memset", (long)n, dp, cs[ci], 0);
                        void *mine = r_memset(d, cs[ci], n), *ref = memset(ref_of(d), cs[ci], n);
                        check_dst_ret(mine, ref);
                        check_destinations();
                    }
            }
        }

        static void test_string_copies(void)
        {
            size_t ns[16];
            for (size_t len = 0; len <= MAXLEN; len++)
                for (int sp = 0; sp < PLACEMENTS; sp += 3)
                    for (int dp = 0; dp < PLACEMENTS; dp++) {
                        const char *src = (const char *)put_string(A, sp == 15 ? 16 : sp, len, (unsigned)dp);
                        char *d = (char *)place(D_MINE, dp, len + 1);
                        reset_destinations();
                        at("strcpy", (long)len, sp, dp, 0);
                        check_dst_ret(r_strcpy(d, src), strcpy((char *)ref_of((uchar *)d), src));
                        check_destinations();
                        reset_destinations();
                        at("stpcpy", (long)len, sp, dp, 0);
                        check_dst_ret(r_stpcpy(d, src), stpcpy((char *)ref_of((uchar *)d), src));
                        check_destinations();

                        int kn = n_values(len, ns, 0);
                        for (int i = 0; i < kn; i++) {
                            size_t n = ns[i];
                            char *dn = (char *)place(D_MINE, dp, n);
                            reset_destinations();
                            at("strncpy", (long)len, sp, dp, (long)n);
                            check_dst_ret(r_strncpy(dn, src, n), strncpy((char *)ref_of((uchar *)dn), src, n));
                            check_destinations();
                            reset_destinations();
                            at("stpncpy", (long)len, sp, dp, (long)n);
                            check_dst_ret(r_stpncpy(dn, src, n), stpncpy((char *)ref_of((uchar *)dn), src, n));
                            check_destinations();
                        }
                    }
            // Unterminated source: exactly n readable bytes.
            for (size_t n = 0; n <= MAXLEN; n++)
                for (int dp = 0; dp < PLACEMENTS; dp++) {
                    const char *src = (const char *)A.hi - n;
                    content((uchar *)A.hi - n, n, 2);
                    char *dn = (char *)place(D_MINE, dp, n);
                    reset_destinations();
                    at("strncpy(unterminated)", (long)n, dp, 0, 0);
                    check_dst_ret(r_strncpy(dn, src, n), strncpy((char *)ref_of((uchar *)dn), src, n));
                    check_destinations();
                    reset_destinations();
                    at("stpncpy(unterminated)", (long)n, dp, 0, 0);
                    check_dst_ret(r_stpncpy(dn, src, n), stpncpy((char *)ref_of((uchar *)dn), src, n));
                    check_destinations();
                }
        }

        static void test_concatenation(void)
        {
            const size_t dlens[] = { 0, 1, 7, 8, 9, 15, 16, 31, 33 };
            size_t ns[16];
            for (size_t len = 0; len <= MAXLEN; len++)
                for (size_t di = 0; di < sizeof dlens / sizeof *dlens; di++)
                    for (int dp = 0; dp < PLACEMENTS; dp += 2) {
                        size_t dl = dlens[di];
                        const char *src = (const char *)put_string(A, 16, len, (unsigned)di);
                        char *d = (char *)place(D_MINE, dp, dl + len + 1);
                        reset_destinations();
                        content((uchar *)d, dl, 9);
                        d[dl] = 0;
                        memcpy(ref_of((uchar *)d), d, dl + 1);
                        at("strcat", (long)len, (long)dl, dp, 0);
                        check_dst_ret(r_strcat(d, src), strcat((char *)ref_of((uchar *)d), src));
                        check_destinations();

                        int kn = n_values(len, ns, 1);
                        for (int i = 0; i < kn; i++) {
                            size_t n = ns[i], add = n < len ? n : len;
                            for (int unterminated = 0; unterminated < 2; unterminated++) {
                                if (unterminated && n > len) continue;
                                const char *s = unterminated ? (const char *)A.hi - n : src;
                                if (unterminated) content((uchar *)A.hi - n, n, 8);
                                char *dn = (char *)place(D_MINE, dp, dl + add + 1);
                                reset_destinations();
                                content((uchar *)dn, dl, 9);
                                dn[dl] = 0;
                                memcpy(ref_of((uchar *)dn), dn, dl + 1);
                                at(unterminated ? "strncat(unterminated)" : "strncat", (long)len, (long)dl, dp, (long)n);
                                check_dst_ret(r_strncat(dn, s, n), strncat((char *)ref_of((uchar *)dn), s, n));
                                check_destinations();
                                if (unterminated) put_string(A, 16, len, (unsigned)di);
                            }
                        }
                    }
        }

        static char *put_bytes(area x, const char *text, size_t len)
        {
            char *p = (char *)x.hi - (len + 1);
            memcpy(p, text, len);
            p[len] = 0;
            return p;
        }

        static void test_strstr(void)
        {
            char needle[128];
            for (size_t len = 0; len <= MAXLEN; len++)
                for (int kind = 0; kind < 2; kind++) {
                    // kind 1: a repetitive haystack "aaaa...ab" where partial matches abound.
                    char *h = (char *)put_string(A, 16, len, 1);
                    if (kind) { memset(h, 'a', len); if (len) h[len - 1] = 'b'; }
                    const size_t ms[] = { 1, 2, 3, 5, 8, 17 };
                    for (size_t k = 0; k <= len; k++)
                        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++) {
                            size_t m = ms[mi];
                            if (k + m <= len) {
                                char *nd = put_bytes(B, h + k, m);  // found at (or before) k
                                at("strstr(found)", (long)len, kind, (long)k, (long)m);
                                check_ptr(r_strstr(h, nd), strstr(h, nd));
                            }
                            // A suffix of the haystack plus one more byte: a partial match at the end.
                            size_t tail = len - k < m ? len - k : m;
                            memcpy(needle, h + k, tail);
                            needle[tail] = kind ? 'b' : '#';
                            char *nd = put_bytes(B, needle, tail + 1);
                            at("strstr(partial)", (long)len, kind, (long)k, (long)m);
                            check_ptr(r_strstr(h, nd), strstr(h, nd));
                        }
                    const char *others[] = { "", "#", "##", "a", "ab", "aab", "\xe9", "\x80\x9f" };
                    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
                        char *nd = put_bytes(B, others[i], strlen(others[i]));
                        at("strstr(other)", (long)len, kind, (long)i, 0);
                        check_ptr(r_strstr(h, nd), strstr(h, nd));
                    }
                    // The whole haystack plus one byte: longer than the haystack.
                    memcpy(needle, h, len);
                    needle[len] = 'q';
                    char *nd = put_bytes(B, needle, len + 1);
                    at("strstr(longer)", (long)len, kind, 0, 0);
                    check_ptr(r_strstr(h, nd), strstr(h, nd));
                    nd = put_bytes(B, needle, len);
                    at("strstr(itself)", (long)len, kind, 0, 0);
                    check_ptr(r_strstr(h, nd), strstr(h, nd));
                }
        }

        static void test_spans(void)
        {
            static const uchar SMALL[] = { 'a', 'b', 'c', 'd', 0xe9 };
            const char *sets[] = { "", "a", "ab", "abc", "abcd\xe9", "\xe9", "xyz", "dcba", "b\xe9#" };
            for (size_t len = 0; len <= MAXLEN; len++)
                for (unsigned seed = 0; seed < 7; seed++)
                    for (size_t si = 0; si < sizeof sets / sizeof *sets; si++) {
                        char *s = (char *)A.hi - (len + 1);
                        for (size_t i = 0; i < len; i++) s[i] = (char)SMALL[(i * i + seed * i + seed) % (seed < 3 ? 2 + seed : 5)];
                        s[len] = 0;
                        char *set = put_bytes(B, sets[si], strlen(sets[si]));
                        at("strspn", (long)len, seed, (long)si, 0);
                        check_eq((long)r_strspn(s, set), (long)strspn(s, set), "span");
                        at("strcspn", (long)len, seed, (long)si, 0);
                        check_eq((long)r_strcspn(s, set), (long)strcspn(s, set), "span");
                        at("strpbrk", (long)len, seed, (long)si, 0);
                        check_ptr(r_strpbrk(s, set), strpbrk(s, set));
                    }
        }

        // ---- wide characters ----
        static const wchar_t WALPHABET[] = { 'a', 'B', 0x80, 0xe9, 0x3b1, 0x1f600, 0x10ffff, -3, 0x7fffffff, (wchar_t)0x80000000, 'z', 1 };
        #define NWALPHA (sizeof WALPHABET / sizeof *WALPHABET)
        static void wcontent(wchar_t *p, size_t n, unsigned seed)
        {
            for (size_t i = 0; i < n; i++) p[i] = WALPHABET[(i * 5 + seed) % NWALPHA];
        }
        #define WPLACEMENTS 5  // offsets 0, 4, 8, 12 bytes, or flush against the end
        static wchar_t *wplace(area x, int placement, size_t count)
        {
            return placement == WPLACEMENTS - 1 ? (wchar_t *)x.hi - count : (wchar_t *)(x.lo + 4 * placement);
        }
        static wchar_t *put_wstring(area x, int placement, size_t len, unsigned seed)
        {
            wchar_t *s = wplace(x, placement, len + 1);
            wcontent(s, len, seed);
            s[len] = 0;
            return s;
        }

        static void test_wide(void)
        {
            size_t ns[16];
            const wchar_t targets[] = { '#', -5, 0x7ffffffe };
            for (size_t len = 0; len <= MAXLEN; len++)
                for (int pl = 0; pl < WPLACEMENTS; pl++) {
                    wchar_t *s = put_wstring(A, pl, len, (unsigned)pl);
                    at("wcslen", (long)len, pl, 0, 0);
                    check_eq((long)r_wcslen(s), (long)wcslen(s), "length");
                    int kn = n_values(len, ns, 1);
                    for (int i = 0; i < kn; i++) {
                        at("wcsnlen", (long)len, pl, (long)ns[i], 0);
                        check_eq((long)r_wcsnlen(s, ns[i]), (long)wcsnlen(s, ns[i]), "length");
                    }
                    // wcschr: absent, present at k (and earlier), the terminator.
                    for (size_t ti = 0; ti < 3; ti++)
                        for (size_t k = 0; k <= len; k++) {
                            s = put_wstring(A, pl, len, (unsigned)k);
                            if (k < len) { s[k] = targets[ti]; s[k / 2] = targets[ti]; }
                            at("wcschr", (long)len, pl, (long)ti, (long)k);
                            check_ptr(r_wcschr(s, targets[ti]), wcschr(s, targets[ti]));
                            at("wmemchr", (long)len, pl, (long)ti, (long)k);
                            check_ptr(r_wmemchr(s, targets[ti], len), wmemchr(s, targets[ti], len));
                            at("wcsrchr", (long)len, pl, (long)ti, (long)k);
                            check_ptr(r_wcsrchr(s, targets[ti]), wcsrchr(s, targets[ti]));
                        }
                    s = put_wstring(A, pl, len, 0);
                    at("wcschr(0)", (long)len, pl, 0, 0);
                    check_ptr(r_wcschr(s, 0), wcschr(s, 0));
                    at("wcsrchr(0)", (long)len, pl, 0, 0);
                    check_ptr(r_wcsrchr(s, 0), wcsrchr(s, 0));

                    // wcscmp: equal, prefix, longer, differing at k with values of either sign.
                    const wchar_t diffs[] = { 'A', -1, 1, 0x7fffffff, (wchar_t)0x80000000, 0x10ffff };
                    for (int v = 0; v < 3 + 6 * (int)len; v++) {
                        size_t len2 = v == 1 ? len / 2 : v == 2 ? len + 3 : len;
                        s = put_wstring(A, pl, len, 7);
                        wchar_t *t = put_wstring(B, WPLACEMENTS - 1 - pl, len2, 7);
                        if (v == 2) t[len] = 'x';
                        if (v >= 3) t[(v - 3) / 6] = diffs[(v - 3) % 6];
                        at("wcscmp", (long)len, pl, v, 0);
                        check_sign(r_wcscmp(s, t), wcscmp(s, t));
                        check_sign(r_wcscmp(t, s), wcscmp(t, s));
                        int kn2 = n_values(len < len2 ? len : len2, ns, 1);
                        for (int i = 0; i < kn2; i++) {
                            at("wcsncmp", (long)len, pl, v, (long)ns[i]);
                            check_sign(r_wcsncmp(s, t, ns[i]), wcsncmp(s, t, ns[i]));
                            check_sign(r_wcsncmp(t, s, ns[i]), wcsncmp(t, s, ns[i]));
                        }
                        // wmemcmp reads exactly n elements of both: at most the shorter string and its terminator.
                        size_t shorter = (len < len2 ? len : len2) + 1;
                        for (size_t n = 0; n <= shorter; n += shorter > 8 ? shorter / 4 : 1) {
                            at("wmemcmp", (long)len, pl, v, (long)n);
                            check_sign(r_wmemcmp(s, t, n), wmemcmp(s, t, n));
                            check_sign(r_wmemcmp(t, s, n), wmemcmp(t, s, n));
                        }
                    }
                }
            // Unterminated wide arrays; a match that is the last readable element with n beyond it.
            for (size_t n = 0; n <= MAXLEN; n++) {
                wchar_t *p = (wchar_t *)A.hi - n;
                wcontent(p, n, 3);
                for (size_t i = 0; i < n; i++) if (p[i] == 0) p[i] = 2;
                at("wcsnlen(unterminated)", (long)n, 0, 0, 0);
                check_eq((long)r_wcsnlen(p, n), (long)n, "length");
                at("wmemchr(absent, flush)", (long)n, 0, 0, 0);
                check_ptr(r_wmemchr(p, '#', n), NULL);
                if (n) {
                    p[n - 1] = '#';
                    at("wmemchr(n beyond the match)", (long)n, 0, 0, 0);
                    check_ptr(r_wmemchr(p, '#', n + 1000), p + n - 1);
                }
            }
            // wcscpy, wcpcpy and wcscat: destinations compared element by element with glibc's.
            for (size_t n = 0; n <= MAXLEN; n++)
                for (int sp = 0; sp < WPLACEMENTS; sp++)
                    for (int dp = 0; dp < WPLACEMENTS; dp++) {
                        wchar_t *src = put_wstring(A, sp, n, (unsigned)(sp + dp));
                        wchar_t *d = wplace(D_MINE, dp, n + 1);
                        reset_destinations();
                        at("wcscpy", (long)n, sp, dp, 0);
                        check_dst_ret(r_wcscpy(d, src), wcscpy((wchar_t *)ref_of((uchar *)d), src));
                        check_destinations();
                        reset_destinations();
                        at("wcpcpy", (long)n, sp, dp, 0);
                        check_dst_ret(r_wcpcpy(d, src), wcpcpy((wchar_t *)ref_of((uchar *)d), src));
                        check_destinations();
                        size_t prefix = (n * 3 + (size_t)dp) % 9;
                        d = wplace(D_MINE, dp, prefix + n + 1);
                        reset_destinations();
                        wchar_t *ref = (wchar_t *)ref_of((uchar *)d);
                        wcontent(d, prefix, 5);
                        wcontent(ref, prefix, 5);
                        d[prefix] = ref[prefix] = 0;
                        at("wcscat", (long)n, sp, dp, (long)prefix);
                        check_dst_ret(r_wcscat(d, src), wcscat(ref, src));
                        check_destinations();
                    }
            // wmemset and wmemcpy.
            const wchar_t fills[] = { 0, 'A', -1, 0x12345678, (wchar_t)0x80000000 };
            for (size_t n = 0; n <= MAXLEN + 30; n++)
                for (int sp = 0; sp < WPLACEMENTS; sp++)
                    for (int dp = 0; dp < WPLACEMENTS; dp++) {
                        wchar_t *src = wplace(A, sp, n), *d = wplace(D_MINE, dp, n);
                        wcontent(src, n, (unsigned)dp);
                        reset_destinations();
                        at("wmemcpy", (long)n, sp, dp, 0);
                        check_dst_ret(r_wmemcpy(d, src, n), wmemcpy((wchar_t *)ref_of((uchar *)d), src, n));
                        check_destinations();
                        if (sp) continue;
                        for (int fi = 0; fi < 5; fi++) {
                            reset_destinations();
                            at("wmemset", (long)n, fills[fi], dp, 0);
                            check_dst_ret(r_wmemset(d, fills[fi], n), wmemset((wchar_t *)ref_of((uchar *)d), fills[fi], n));
                            check_destinations();
                        }
                    }
        }

        // ---- overlapping copies ----
        // What glibc leaves after an overlapping copy is its implementation's. Its memcpy, mempcpy,
        // memccpy (memchr, then mempcpy), wmemcpy and wcpcpy (wcslen, then wmemcpy) are memmove on this
        // machine (checked first: glibc's memcpy against glibc's memmove), so every overlapping call of
        // ours must leave exactly glibc's bytes. glibc's string copies load and store in vector pieces
        // whose order decides the result: a memmove of the source when the write starts at the source
        // or at least 64 bytes below it; closer below, their small-size paths reload bytes they have
        // just stored, and above the source they overwrite its terminator before reading it (and may
        // run off the mapping). There ours are checked against the memmove model (the whole source read,
        // then written) and glibc's differences from it are only counted.
        enum { O_MEMCPY, O_MEMPCPY, O_MEMCCPY, O_WMEMCPY, O_WCPCPY, O_STRCPY, O_STPCPY, O_STRNCPY, O_STPNCPY,
               O_STRCAT, O_STRNCAT, O_WCSCPY, O_WCSCAT, O_COUNT };
        static const char *const O_NAMES[] = { "memcpy", "mempcpy", "memccpy", "wmemcpy", "wcpcpy", "strcpy",
            "stpcpy", "strncpy", "stpncpy", "strcat", "strncat", "wcscpy", "wcscat" };
        #define O_ALWAYS_MEMMOVE(f) ((f) <= O_WCPCPY)
        #define O_WIDE(f) ((f) == O_WMEMCPY || (f) == O_WCPCPY || (f) == O_WCSCPY || (f) == O_WCSCAT)

        static area MODEL;
        static long glibc_accidents, glibc_accident_calls;

        static size_t byte_length(const uchar *s) { size_t n = 0; while (s[n]) n++; return n; }
        static size_t wide_length(const uchar *s) { size_t n = 0; while (((const wchar_t *)s)[n]) n++; return n; }

        // The memmove model in MODEL: the source read whole, then written. Returns the result pointer.
        static uchar *model_move(uchar *dst, const uchar *src, size_t n)
        {
            static uchar tmp[PAGE];
            for (size_t i = 0; i < n; i++) tmp[i] = src[i];
            for (size_t i = 0; i < n; i++) dst[i] = tmp[i];
            return dst;
        }
        static uchar *model(int f, uchar *dst, const uchar *src, size_t n)
        {
            size_t len, end;
            switch (f) {
            case O_MEMCPY: return model_move(dst, src, n);
            case O_MEMPCPY: return model_move(dst, src, n) + n;
            case O_MEMCCPY: {
                size_t k = 0;
                while (k < n && src[k] != '#') k++;
                model_move(dst, src, k < n ? k + 1 : n);
                return k < n ? dst + k + 1 : NULL;
            }
            case O_WMEMCPY: return model_move(dst, src, 4 * n);
            case O_WCPCPY: len = wide_length(src); return model_move(dst, src, 4 * (len + 1)) + 4 * len;
            case O_WCSCPY: len = wide_length(src); return model_move(dst, src, 4 * (len + 1));
            case O_WCSCAT: end = wide_length(dst); len = wide_length(src); model_move(dst + 4 * end, src, 4 * (len + 1)); return dst;
            case O_STRCPY: len = byte_length(src); return model_move(dst, src, len + 1);
            case O_STPCPY: len = byte_length(src); return model_move(dst, src, len + 1) + len;
            case O_STRNCPY: case O_STPNCPY:
                len = 0;
                while (len < n && src[len]) len++;
                model_move(dst, src, len);
                for (size_t i = len; i < n; i++) dst[i] = 0;
                return f == O_STRNCPY ? dst : dst + len;
            case O_STRCAT: end = byte_length(dst); len = byte_length(src); model_move(dst + end, src, len + 1); return dst;
            default:  // O_STRNCAT
                end = byte_length(dst);
                len = 0;
                while (len < n && src[len]) len++;
                model_move(dst + end, src, len);
                dst[end + len] = 0;
                return dst;
            }
        }
        static void *overlapping_call(int f, int mine, uchar *dst, uchar *src, size_t n)
        {
            char *d = (char *)dst, *s = (char *)src;
            wchar_t *wd = (wchar_t *)dst, *ws = (wchar_t *)src;
            switch (f) {
            case O_MEMCPY: return mine ? r_memcpy(dst, src, n) : memcpy(dst, src, n);
            case O_MEMPCPY: return mine ? r_mempcpy(dst, src, n) : mempcpy(dst, src, n);
            case O_MEMCCPY: return mine ? r_memccpy(dst, src, '#', n) : memccpy(dst, src, '#', n);
            case O_WMEMCPY: return mine ? r_wmemcpy(wd, ws, n) : wmemcpy(wd, ws, n);
            case O_WCPCPY: return mine ? r_wcpcpy(wd, ws) : wcpcpy(wd, ws);
            case O_WCSCPY: return mine ? r_wcscpy(wd, ws) : wcscpy(wd, ws);
            case O_WCSCAT: return mine ? r_wcscat(wd, ws) : wcscat(wd, ws);
            case O_STRCPY: return mine ? r_strcpy(d, s) : strcpy(d, s);
            case O_STPCPY: return mine ? r_stpcpy(d, s) : stpcpy(d, s);
            case O_STRNCPY: return mine ? r_strncpy(d, s, n) : strncpy(d, s, n);
            case O_STPNCPY: return mine ? r_stpncpy(d, s, n) : stpncpy(d, s, n);
            case O_STRCAT: return mine ? r_strcat(d, s) : strcat(d, s);
            default: return mine ? r_strncat(d, s, n) : strncat(d, s, n);
            }
        }

        // The window of the areas an overlapping call may touch (sources and destinations stay inside it).
        #define WLO 1024
        #define WHI 2048
        static void window_reset(void)
        {
            // No NUL: strings end where the test puts their terminators.
            for (int i = WLO; i < WHI; i++) D_MINE.lo[i] = (uchar)(i * 31 + 17) ? (uchar)(i * 31 + 17) : 1;
        }
        // Offset of the first byte where the two areas differ in the window, or -1.
        static int window_differs(const area *x, const area *y)
        {
            for (int i = WLO; i < WHI; i++) if (x->lo[i] != y->lo[i]) return i;
            return -1;
        }

        static void test_overlaps(void)
        {
            // glibc's memcpy is its memmove here, both directions, small and past the rep movsb and
            // non-temporal thresholds (the test lowers the latter to 16 KB through GLIBC_TUNABLES).
            const size_t big[] = { 0, 1, 7, 8, 31, 32, 33, 64, 100, 255, 256, 257, 2048, 2113, 4095, 8192, 70000, 1 << 20 };
            size_t cap = (3 << 20) + 4 * PAGE;
            uchar *b1 = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            uchar *b2 = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            uchar *b3 = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (b1 == MAP_FAILED || b2 == MAP_FAILED || b3 == MAP_FAILED) { perror("mmap"); exit(2); }
            for (size_t bi = 0; bi < sizeof big / sizeof *big; bi++) {
                size_t n = big[bi];
                const long deltas[] = { 1, -1, 7, -7, 64, -64, 4097, -4097, (long)n - 1, 1 - (long)n, (long)n / 2, -(long)n / 2 };
                for (size_t di = 0; di < sizeof deltas / sizeof *deltas; di++)
                    for (int f = 0; f < 3; f++) {
                        long delta = deltas[di];
                        if (delta == 0 || labs(delta) >= (long)n) continue;
                        size_t base = n + PAGE + 13, from = base - n - PAGE / 2, to = base + 2 * n + PAGE / 2;
                        for (size_t i = from; i < to; i++) b1[i] = b2[i] = b3[i] = (uchar)(i * 7 + i / 251);
                        uchar *src1 = b1 + base, *src2 = b2 + base, *src3 = b3 + base;
                        at(f == 0 ? "memcpy(overlap, glibc's as memmove)" : f == 1 ? "memcpy(overlap)" : "mempcpy(overlap)", (long)n, delta, 0, 0);
                        void *want = memmove(src1 + delta, src1, n);
                        void *got = f == 0 ? memcpy(src2 + delta, src2, n) : f == 1 ? r_memcpy(src2 + delta, src2, n) : r_mempcpy(src2 + delta, src2, n);
                        if (f == 2) want = (uchar *)want + n;
                        check_eq((uchar *)got - b2, (uchar *)want - b1, "returned pointer offset");
                        if (f == 2) { mempcpy(src3 + delta, src3, n); if (memcmp(b3 + from, b1 + from, to - from) != 0) fail("glibc's mempcpy is not memmove"); }
                        if (memcmp(b1 + from, b2 + from, to - from) != 0) fail("bytes differ from glibc's memmove");
                    }
            }
            munmap(b1, cap);
            munmap(b2, cap);
            munmap(b3, cap);

            // Every routine, every overlap of a source of up to 80 bytes (or wide characters) with a
            // destination up to 100 bytes (or 25 wide characters) away, either side, at a few alignments.
            long compared[O_COUNT] = { 0 };
            for (int f = 0; f < O_COUNT; f++)
                for (size_t len = 0; len <= 80; len++)
                    for (int al = 0; al < 3; al++)
                        for (long delta = -100; delta <= 100; delta++)
                            for (int variant = 0; variant < 3; variant++) {
                                int wide = O_WIDE(f);
                                if (wide && (delta % 4 != 0 || len > 25)) continue;
                                size_t unit = wide ? 4 : 1;
                                uchar *src = D_MINE.lo + WLO + 300 + (size_t)(wide ? 4 * al : 7 * al);
                                uchar *dst = src + delta;
                                size_t n = len;  // the count argument: bytes, or wide characters
                                window_reset();
                                if (f == O_STRCAT || f == O_WCSCAT || f == O_STRNCAT) {
                                    // The destination string: 0, 3 or 9 units, written before the source,
                                    // which may cut it short (the call sees that).
                                    size_t dl = variant == 0 ? 0 : variant == 1 ? 3 : 9;
                                    if (wide) { wcontent((wchar_t *)dst, dl, 9); ((wchar_t *)dst)[dl] = 0; }
                                    else { content(dst, dl, 9); dst[dl] = 0; }
                                }
                                // The source: len units of content and a terminator.
                                if (wide) {
                                    wcontent((wchar_t *)src, len, (unsigned)variant);
                                    ((wchar_t *)src)[len] = 0;
                                } else {
                                    content(src, len, (unsigned)(variant + al));
                                    src[len] = 0;
                                }
                                if (f == O_MEMCCPY) {
                                    if (variant == 0 && len) src[len / 2] = '#';
                                    if (variant == 1 && len) src[len - 1] = '#';
                                    if (variant == 2 && len) n = len - 1;  // '#' absent, n short of the NUL
                                } else if (f == O_STRNCPY || f == O_STPNCPY) {
                                    n = variant == 0 ? len / 2 : variant == 1 ? len : len + 9;
                                } else if (f == O_STRNCAT) {
                                    n = al == 0 ? len / 2 : al == 1 ? len : len + 9;  // short of, at, or past the NUL
                                } else if (f != O_STRCAT && f != O_WCSCAT && variant > 0) continue;
                                // Mirror the window, then skip what does not overlap (the plain tests cover it).
                                for (int i = WLO; i < WHI; i++) D_REF.lo[i] = MODEL.lo[i] = D_MINE.lo[i];
                                size_t rlen = wide ? wide_length(src) : byte_length(src);
                                size_t dlen = f == O_STRCAT || f == O_STRNCAT ? byte_length(dst) : f == O_WCSCAT ? wide_length(dst) : 0;
                                size_t reach = f <= O_WMEMCPY ? n * unit : (rlen + 1) * unit;
                                if ((f == O_STRNCPY || f == O_STPNCPY) && n > reach) reach = n;
                                uchar *write = dst + dlen * unit;
                                int overlapping = reach && labs((long)(write - src)) < (long)(reach + dlen * unit + 1);
                                if (!overlapping) continue;
                                uchar *mm = MODEL.lo + (dst - D_MINE.lo), *ms = MODEL.lo + (src - D_MINE.lo);
                                uchar *rd = ref_of(dst), *rs = ref_of(src);
                                at(O_NAMES[f], (long)len, delta, al, variant);
                                uchar *want = model(f, mm, ms, n);
                                uchar *got = overlapping_call(f, 1, dst, src, n);
                                check_eq(got ? got - D_MINE.lo : -1, want ? want - MODEL.lo : -1, "result offset against the memmove model");
                                int at_byte = window_differs(&D_MINE, &MODEL);
                                if (at_byte >= 0) {
                                    char m[96];
                                    snprintf(m, sizeof m, "byte at page offset %d is %#x, the memmove model's %#x", at_byte, D_MINE.lo[at_byte], MODEL.lo[at_byte]);
                                    fail(m);
                                }
                                // glibc: everywhere for the memmove routines; for the string copies where its result
                                // is not an accident of its vector code (write at the source or 64+ bytes below it).
                                long gap = (long)(write - src);
                                int glibc_memmove = O_ALWAYS_MEMMOVE(f) || gap == 0 || gap <= -64;
                                if (!glibc_memmove && gap > 0) continue;  // may run off the mapping
                                void *ref = overlapping_call(f, 0, rd, rs, n);
                                int glibc_differs = window_differs(&D_REF, &MODEL) >= 0 || (ref ? (uchar *)ref - D_REF.lo : -1) != (want ? want - MODEL.lo : -1);
                                if (glibc_memmove) {
                                    compared[f]++;
                                    at_byte = window_differs(&D_MINE, &D_REF);
                                    if (at_byte >= 0) {
                                        char m[96];
                                        snprintf(m, sizeof m, "byte at page offset %d is %#x, glibc's %#x", at_byte, D_MINE.lo[at_byte], D_REF.lo[at_byte]);
                                        fail(m);
                                    } else if (glibc_differs) fail("glibc's result pointer differs");
                                } else {
                                    glibc_accident_calls++;
                                    glibc_accidents += glibc_differs;
                                }
                            }
            for (int f = 0; f < O_COUNT; f++)
                if (compared[f] < 50) { at(O_NAMES[f], 0, 0, 0, 0); fail("too few overlapping calls compared with glibc"); }
            printf("overlap: glibc differs from memmove on %ld of %ld string copies writing 1..63 bytes below the source\n",
                   glibc_accidents, glibc_accident_calls);
        }

        int main(int argc, char **argv)
        {
            if (argc != 2) { fprintf(stderr, "usage: %s LIBRARY\n", argv[0]); return 2; }
            void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
            if (!lib) { printf("MISMATCH dlopen: %s\n", dlerror()); return 2; }
        #define LOOKUP(f) \
            if (!(r_##f = (__typeof__(&f))dlsym(lib, #f))) { printf("MISMATCH %s: not exported\n", #f); failures++; } \
            else if ((void *)r_##f == (void *)&f) { printf("MISMATCH %s: dlsym found glibc's\n", #f); failures++; }
            FUNCTIONS(LOOKUP)
            if (failures) return 1;

            struct sigaction sa = { 0 };
            sa.sa_sigaction = on_fault;
            sa.sa_flags = SA_SIGINFO;
            sigaction(SIGSEGV, &sa, NULL);
            sigaction(SIGBUS, &sa, NULL);

            A = make_area();
            B = make_area();
            D_MINE = make_area();
            D_REF = make_area();
            MODEL = make_area();

            test_lengths();
            test_byte_searches();
            test_string_searches();
            test_comparisons();
            test_copies();
            test_memset();
            test_string_copies();
            test_concatenation();
            test_strstr();
            test_spans();
            test_wide();
            test_overlaps();

            printf("%ld calls, %d mismatches\n", calls, failures);
            return failures ? 1 : 0;
        }
        """;
}
