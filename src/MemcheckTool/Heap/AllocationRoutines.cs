namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The replaced routines that allocate, by a one-byte number a block keeps (<see cref="HeapChunk.Routine"/>):
/// a leak's report names the routine that allocated it, as Valgrind's stack starts there
/// (<c>fun:calloc</c>, <c>fun:_Znwm</c>), which suppressions match. 0 is no routine (a block the
/// program described itself).
/// </summary>
public static class AllocationRoutines
{
    // The names HeapFunctions replaces, as the program calls them; the order is the numbering.
    private static readonly string[] Names =
    [
        "", "malloc", "__libc_malloc", "calloc", "__libc_calloc", "realloc", "__libc_realloc", "reallocarray",
        "memalign", "__libc_memalign", "aligned_alloc", "posix_memalign", "valloc", "__libc_valloc", "pvalloc", "__libc_pvalloc",
        "_Znwm", "_ZnwmRKSt9nothrow_t", "_Znam", "_ZnamRKSt9nothrow_t",
        "_ZnwmSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
    ];

    private static readonly Dictionary<string, byte> Numbers = Names.Select((name, i) => (name, (byte)i)).ToDictionary();

    /// <summary>The number of routine <paramref name="name"/> (0 for a name not in the table).</summary>
    public static byte Number(string name) => Numbers.GetValueOrDefault(name);

    /// <summary>
    /// The function a fishy-argument error names, as Valgrind's Memcheck names it (its FishyValue
    /// suppression line, <c>__builtin_vec_new(size)</c>): operator new and new[] by the names of
    /// Memcheck's handlers, every other routine by its own.
    /// </summary>
    public static string FishyFunction(string routine) => routine switch
    {
        "_Znwm" or "_ZnwmRKSt9nothrow_t" => "__builtin_new",
        "_Znam" or "_ZnamRKSt9nothrow_t" => "__builtin_vec_new",
        "_ZnwmSt11align_val_t" or "_ZnwmSt11align_val_tRKSt9nothrow_t" => "__builtin_new_aligned",
        "_ZnamSt11align_val_t" or "_ZnamSt11align_val_tRKSt9nothrow_t" => "__builtin_vec_new_aligned",
        _ => routine,
    };

    /// <summary>The routine numbered <paramref name="number"/>; null for 0 or an unknown number.</summary>
    public static string? Name(byte number) => number > 0 && number < Names.Length ? Names[number] : null;
}
