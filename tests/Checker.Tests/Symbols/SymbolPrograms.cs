using Checker.Tests.EndToEnd;

namespace Checker.Tests.Symbols;

/// <summary>
/// The programs of the symbolization tests, compiled on first use into one scratch directory
/// (sources are compiled by relative name there, so the DWARF holds a relative name plus
/// DW_AT_comp_dir, as in a normal build).
/// </summary>
public sealed class SymbolPrograms
{
    public const string HelloSource = """
        #include <stdio.h>

        int helper(int x)
        {
            int y = x * 3; /* LINE_HELPER */
            return y + 1;
        }

        int main(int argc, char **argv)
        {
            int v = helper(argc); /* LINE_MAIN_CALL */
            printf("%d %s\n", v, argv[0]);
            return 0;
        }

        """;

    public const string InlineSource = """
        #include <stdio.h>
        #include <stdlib.h>

        static inline __attribute__((always_inline)) int square(int x)
        {
            return x * x; /* LINE_SQUARE */
        }

        static inline __attribute__((always_inline)) int sum_squares(int n)
        {
            int total = 0;
            for (int i = 0; i < n; i++)
                total += square(i + n); /* LINE_CALL_SQUARE */
            return total;
        }

        int main(int argc, char **argv)
        {
            int n = argc > 1 ? atoi(argv[1]) : 10;
            int r = sum_squares(n); /* LINE_CALL_SUM */
            printf("%d\n", r);
            return 0;
        }

        """;

    public const string WidgetSource = """
        #include <cstdio>
        #include <vector>

        namespace ns {
        class Widget {
        public:
            void resize(unsigned long n);
            std::vector<int> items;
        };

        void Widget::resize(unsigned long n)
        {
            items.resize(n); /* LINE_RESIZE */
        }
        }

        int main()
        {
            ns::Widget w;
            w.resize(10);
            std::printf("%zu\n", w.items.size());
            return 0;
        }

        """;

    public const string LibrarySource = """
        static int __attribute__((noinline)) scale(int x)
        {
            return x * 7 + 1; /* LINE_SCALE */
        }

        int shape_area(int w, int h)
        {
            return scale(w) * h; /* LINE_AREA */
        }

        int shape_perimeter(int w, int h)
        {
            return 2 * (w + h);
        }

        """;

    /// <summary>A C program with loops, recursion, a comparator and inlined helpers, for the comparison with addr2line.</summary>
    public const string MixedCSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        struct item { char name[16]; int weight; };

        static inline int clamp(int v, int lo, int hi)
        {
            return v < lo ? lo : v > hi ? hi : v;
        }

        static int by_weight(const void *a, const void *b)
        {
            const struct item *x = a, *y = b;
            return (x->weight > y->weight) - (x->weight < y->weight);
        }

        static unsigned hash(const char *s)
        {
            unsigned h = 5381;
            while (*s)
                h = h * 33 + (unsigned char)*s++;
            return h;
        }

        long fib(int n)
        {
            return n < 2 ? n : fib(n - 1) + fib(n - 2);
        }

        int fill(struct item *items, int count, int seed)
        {
            int total = 0;
            for (int i = 0; i < count; i++) {
                snprintf(items[i].name, sizeof items[i].name, "item%d", i * seed);
                items[i].weight = clamp((int)(hash(items[i].name) % 1000) - 100, 0, 800);
                total += items[i].weight;
            }
            return total;
        }

        int main(int argc, char **argv)
        {
            int count = argc > 1 ? atoi(argv[1]) : 32;
            struct item *items = calloc(count, sizeof *items);
            if (!items)
                return 1;
            int total = fill(items, count, argc);
            qsort(items, count, sizeof *items, by_weight);
            for (int i = 0; i < count && i < 3; i++)
                printf("%s %d\n", items[i].name, items[i].weight);
            printf("%d %ld %zu\n", total, fib(count % 20), strlen(items[0].name));
            free(items);
            return 0;
        }

        """;

    /// <summary>C++ with templates and the standard library (lots of inlining from headers), for the comparison with addr2line.</summary>
    public const string MixedCppSource = """
        #include <algorithm>
        #include <cstdio>
        #include <map>
        #include <string>
        #include <vector>

        namespace shapes {
        struct Shape {
            virtual ~Shape() = default;
            virtual double area() const = 0;
        };
        struct Rect : Shape {
            double w, h;
            Rect(double w, double h) : w(w), h(h) {}
            double area() const override { return w * h; }
        };
        double sum_areas(const std::vector<Shape *> &all)
        {
            double sum = 0;
            for (const Shape *s : all)
                sum += s->area();
            return sum;
        }
        }

        int main(int argc, char **argv)
        {
            std::vector<shapes::Shape *> all;
            for (int i = 0; i < 8 + argc; i++)
                all.push_back(new shapes::Rect(i, i + 1));
            std::map<std::string, int> counts;
            for (int i = 1; i < argc; i++)
                counts[argv[i]]++;
            std::vector<int> v(all.size());
            std::sort(v.begin(), v.end());
            std::printf("%f %zu %zu\n", shapes::sum_areas(all), counts.size(), v.size());
            for (shapes::Shape *s : all)
                delete s;
            return 0;
        }

        """;

    private readonly Lazy<string> _hello, _inline, _widget, _library, _mixedC, _mixedCpp, _compressed;

    public SymbolPrograms()
    {
        Directory = Scratch.NewDirectory("symbols");
        _hello = new(() => Compile("gcc", "hello.c", HelloSource, "hello", "-g", "-O0"));
        // The same program with its DWARF sections compressed (SHF_COMPRESSED), as Debian's debug packages ship them.
        _compressed = new(() => Compile("gcc", "hello.c", HelloSource, "hello-gz", "-g", "-O0", "-gz=zlib", "-Wl,--build-id"));
        _inline = new(() => Compile("gcc", "inline.c", InlineSource, "inline", "-g", "-O2"));
        _widget = new(() => Compile("g++", "widget.cpp", WidgetSource, "widget", "-g", "-O0"));
        _library = new(() => Compile("gcc", "shape.c", LibrarySource, "libshape.so", "-g", "-O2", "-fPIC", "-shared"));
        _mixedC = new(() => Compile("gcc", "mixed.c", MixedCSource, "mixed", "-g", "-O2"));
        _mixedCpp = new(() => Compile("g++", "mixed.cpp", MixedCppSource, "mixedpp", "-g", "-O2"));
    }

    /// <summary>Where the programs and their sources are.</summary>
    public string Directory { get; }

    /// <summary>hello.c at -O0: main calls helper.</summary>
    public string Hello => _hello.Value;

    /// <summary><see cref="HelloSource"/> at -O0 with zlib-compressed DWARF sections and a build-id.</summary>
    public string CompressedHello => _compressed.Value;

    /// <summary>inline.c at -O2: square inlined into sum_squares inlined into main.</summary>
    public string Inline => _inline.Value;

    /// <summary>widget.cpp at -O0: ns::Widget::resize(unsigned long).</summary>
    public string Widget => _widget.Value;

    /// <summary>libshape.so at -O2: exported shape_area and shape_perimeter, static scale.</summary>
    public string Library => _library.Value;

    /// <summary>mixed.c at -O2.</summary>
    public string MixedC => _mixedC.Value;

    /// <summary>mixed.cpp at -O2.</summary>
    public string MixedCpp => _mixedCpp.Value;

    /// <summary>The absolute path of a source file compiled here.</summary>
    public string SourcePath(string name) => Path.Combine(Directory, name);

    /// <summary>A new empty directory for derived files.</summary>
    public string NewDirectory(string name) => Scratch.NewDirectory(name);

    private string Compile(string compiler, string sourceName, string source, string output, params string[] flags)
    {
        File.WriteAllText(Path.Combine(Directory, sourceName), source);
        SymbolTools.Run(Directory, compiler, [.. flags, sourceName, "-o", output]);
        return Path.Combine(Directory, output);
    }
}
