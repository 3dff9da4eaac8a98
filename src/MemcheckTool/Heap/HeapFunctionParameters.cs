namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The parameters of the replaced allocation functions, by symbol: what an undefined argument
/// register is reported as ("malloc parameter size (rdi) is undefined"), as Valgrind reports a
/// replaced malloc's undefined size. The handlers run in C#, so nothing else would see the use.
/// </summary>
public static class HeapFunctionParameters
{
    private static readonly Dictionary<string, (string Display, string[] Parameters)> Table = Build();

    /// <summary>The function's name as reports show it and its parameter names; null for one that takes none worth checking.</summary>
    public static (string Display, string[] Parameters)? Of(string symbol) => Table.TryGetValue(symbol, out var entry) ? entry : null;

    private static Dictionary<string, (string, string[])> Build()
    {
        var t = new Dictionary<string, (string, string[])>();
        void Add(string display, string[] parameters, params string[] symbols)
        {
            foreach (string s in symbols) t[s] = (display, parameters);
        }
        Add("malloc", ["size"], "malloc", "__libc_malloc");
        Add("operator new", ["size"], "_Znwm", "_ZnwmRKSt9nothrow_t");
        Add("operator new[]", ["size"], "_Znam", "_ZnamRKSt9nothrow_t");
        Add("operator new", ["size", "alignment"], "_ZnwmSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t");
        Add("operator new[]", ["size", "alignment"], "_ZnamSt11align_val_t", "_ZnamSt11align_val_tRKSt9nothrow_t");
        Add("memalign", ["alignment", "size"], "memalign", "__libc_memalign");
        Add("aligned_alloc", ["alignment", "size"], "aligned_alloc");
        Add("valloc", ["size"], "valloc", "__libc_valloc");
        Add("pvalloc", ["size"], "pvalloc", "__libc_pvalloc");
        Add("calloc", ["nmemb", "size"], "calloc", "__libc_calloc");
        Add("realloc", ["ptr", "size"], "realloc", "__libc_realloc");
        Add("reallocarray", ["ptr", "nmemb", "size"], "reallocarray");
        Add("posix_memalign", ["memptr", "alignment", "size"], "posix_memalign");
        Add("free", ["ptr"], "free", "__libc_free", "cfree");
        Add("operator delete", ["ptr"], "_ZdlPv", "_ZdlPvm", "_ZdlPvRKSt9nothrow_t", "_ZdlPvSt11align_val_t", "_ZdlPvmSt11align_val_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t");
        Add("operator delete[]", ["ptr"], "_ZdaPv", "_ZdaPvm", "_ZdaPvRKSt9nothrow_t", "_ZdaPvSt11align_val_t", "_ZdaPvmSt11align_val_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t");
        Add("malloc_usable_size", ["ptr"], "malloc_usable_size");
        return t;
    }
}
