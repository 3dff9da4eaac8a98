using System.Collections.Concurrent;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Compiles the programs in tests/cases with gcc/g++, each once per test run (on first use),
/// into the run's scratch directory.
/// </summary>
public static class CaseBinaries
{
    private sealed record Spec(string Compiler, string Source, string[] Flags, string[] Libraries);

    private static readonly Dictionary<string, Spec> _specs = new()
    {
        ["hello_static"] = new("gcc", "hello_static.c", ["-static", "-O2"], []),
        ["stdio_qsort_setjmp"] = new("gcc", "stdio_qsort_setjmp.c", ["-O2"], ["-lm"]),
        ["cxx_exceptions"] = new("g++", "cxx_exceptions.cpp", ["-O2"], []),
        ["avx512_loop"] = new("gcc", "avx512_loop.c", ["-O2", "-mavx512f", "-mavx512bw", "-mavx512vl"], []),
        ["pie_and_nopie.pie"] = new("gcc", "pie_and_nopie.c", ["-O2", "-fPIE", "-pie"], []),
        ["pie_and_nopie.nopie"] = new("gcc", "pie_and_nopie.c", ["-O2", "-no-pie"], []),
        ["system_popen"] = new("gcc", "system_popen.c", ["-O2"], []),
        ["abort_after_output"] = new("gcc", "abort_after_output.c", ["-O2"], []),
        ["null_deref"] = new("gcc", "null_deref.c", ["-O2"], []),
        ["null_deref.O0"] = new("gcc", "null_deref.c", ["-O0"], []),
        ["trap"] = new("gcc", "trap.c", ["-O2"], []),
        ["ignored_signals_epipe"] = new("gcc", "ignored_signals_epipe.c", ["-O2"], []),
        ["self_view"] = new("gcc", "self_view.c", ["-O2"], []),
        ["proc_self_dirs"] = new("gcc", "proc_self_dirs.c", ["-O2"], []),
        ["proc_thread_count"] = new("gcc", "proc_thread_count.c", ["-O2", "-pthread"], []),
        ["pidfd_self_signal"] = new("gcc", "pidfd_self_signal.c", ["-O2"], []),
        ["reraise_fault"] = new("gcc", "reraise_fault.c", ["-O1", "-g"], []),
        ["pkey_code"] = new("gcc", "pkey_code.c", ["-O1"], []),
        ["own_allocator"] = new("gcc", "own_allocator.c", ["-O2"], []),
        ["own_allocator_freelike"] = new("gcc", "own_allocator_freelike.c", ["-O1"], []),
        ["uninit_origin_per_stack"] = new("gcc", "uninit_origin_per_stack.c", ["-O2", "-g"], []),
        ["uninit_origin_freed"] = new("gcc", "uninit_origin_freed.c", ["-O2"], []),
        ["uninit_origin_returned"] = new("gcc", "uninit_origin_returned.c", ["-O1"], []),
        ["uninit_outside_heap"] = new("gcc", "uninit_outside_heap.c", ["-O1", "-g"], []),
        // -O0: a vfork child writing its parent's local is outside what the optimizer keeps apart.
        ["vfork_child_fills"] = new("gcc", "vfork_child_fills.c", ["-O0", "-g"], []),
        // The same code twice: stripped at link (-s), and with symbols to say where its functions lie.
        ["uninit_origin_stripped"] = new("gcc", "uninit_origin_stripped.c", ["-O1", "-s"], []),
        ["uninit_origin_stripped.symbols"] = new("gcc", "uninit_origin_stripped.c", ["-O1"], []),
        ["args_and_env"] = new("gcc", "args_and_env.c", ["-O2"], []),
        ["pthread_create"] = new("gcc", "pthread_create.c", ["-O2", "-pthread"], []),
        ["threads_heap_overflow"] = new("gcc", "threads_heap_overflow.c", ["-O2", "-g", "-pthread"], []),
        ["threads_shared_bytes"] = new("gcc", "threads_shared_bytes.c", ["-O2", "-g", "-pthread"], []),
        ["alignment_check_flag"] = new("gcc", "alignment_check_flag.c", ["-O2", "-g"], []),
        ["nudge_sleeper"] = new("gcc", "nudge_sleeper.c", ["-O2", "-g"], []),
        ["signal_handlers"] = new("gcc", "signal_handlers.c", ["-O2", "-g", "-pthread"], []),
        ["handled_protection_faults"] = new("gcc", "handled_protection_faults.c", ["-O1", "-g"], []),
        ["return_paths"] = new("gcc", "return_paths.c", ["-O2"], []),
        ["entry_profile_loop"] = new("gcc", "entry_profile_loop.c", ["-O2"], []),
        ["heap_held_blocks"] = new("gcc", "heap_held_blocks.c", ["-O1", "-g"], []),
        ["indirect_jump_flags"] = new("gcc", "indirect_jump_flags.c", ["-O2"], []),
        ["vector_state_exits"] = new("gcc", "vector_state_exits.c", ["-O2"], []),
        ["pkey_across_exits"] = new("gcc", "pkey_across_exits.c", ["-O1"], []),
        ["threads_endings"] = new("gcc", "threads_endings.c", ["-O2", "-g", "-pthread"], []),
        ["threads_lifecycle"] = new("gcc", "threads_lifecycle.c", ["-O2", "-g", "-pthread"], []),
        ["cxx_static_init_and_unwind"] = new("g++", "cxx_static_init_and_unwind.cpp", ["-O2"], []),
        ["wait_status"] = new("gcc", "wait_status.c", ["-O2"], []),
        ["code_rewrite"] = new("gcc", "code_rewrite.c", ["-O2"], []),
        ["got_rewrite"] = new("gcc", "got_rewrite.c", ["-O1", "-Wl,-z,now"], []),
        ["got_rewrite.noplt"] = new("gcc", "got_rewrite.c", ["-O1", "-fno-plt", "-Wl,-z,now"], []),
        ["got_rewrite.lazy"] = new("gcc", "got_rewrite.c", ["-O1", "-Wl,-z,lazy"], []),
        ["indirect_branch_kinds"] = new("gcc", "indirect_branch_kinds.c", ["-O2"], []),
        ["delay_frees"] = new("gcc", "delay_frees.c", ["-O1"], []),
        ["return_prediction_flush"] = new("gcc", "return_prediction_flush.c", ["-O1"], []),
        ["persisted_variant.1"] = new("gcc", "persisted_variant.c", ["-O2", "-DVALUE=1"], []),
        ["persisted_variant.2"] = new("gcc", "persisted_variant.c", ["-O2", "-DVALUE=2"], []),
        ["threads_then_spawn"] = new("gcc", "threads_then_spawn.c", ["-O2", "-pthread"], []),
        ["persisted_exit_facts.1"] = new("gcc", "persisted_exit_facts.c", ["-O2", "-DVALUE=1"], []),
        ["persisted_exit_facts.2"] = new("gcc", "persisted_exit_facts.c", ["-O2", "-DVALUE=2"], []),
        ["persisted_rebuilds.1"] = new("gcc", "persisted_rebuilds.c", ["-O0", "-DVALUE=1"], []),
        ["persisted_rebuilds.2"] = new("gcc", "persisted_rebuilds.c", ["-O0", "-DVALUE=2"], []),
        ["int80"] = new("gcc", "int80.c", ["-O2"], []),
        ["close_all_fds"] = new("gcc", "close_all_fds.c", ["-O1"], []),
        ["heap_invalid_frees"] = new("gcc", "heap_invalid_frees.c", ["-O0", "-Wno-free-nonheap-object"], []),
        ["rounding_across_malloc"] = new("gcc", "rounding_across_malloc.c", ["-O1"], ["-lm"]),
        ["fpu_flags_across_malloc"] = new("gcc", "fpu_flags_across_malloc.c", ["-O1"], ["-lm"]),
        ["heap_invalid_frees.static"] = new("gcc", "heap_invalid_frees.c", ["-O0", "-static", "-Wno-free-nonheap-object"], []),
        ["heap_invalid_frees.O2"] = new("gcc", "heap_invalid_frees.c", ["-O2", "-fomit-frame-pointer", "-Wno-free-nonheap-object"], []),
        ["error_kinds"] = new("gcc", "error_kinds.c", ["-O0", "-g", "-Wno-use-after-free"], []),
        ["leaks"] = new("gcc", "leaks.c", ["-O0"], []),
        ["leak_cycles"] = new("gcc", "leak_cycles.c", ["-O0"], []),
        ["leak_prot_none"] = new("gcc", "leak_prot_none.c", ["-O0"], []),
        ["leak_exit_path"] = new("gcc", "leak_exit_path.c", ["-O0"], []),
        ["leak_exit_path.O2"] = new("gcc", "leak_exit_path.c", ["-O2"], []),
        ["heap_growth"] = new("gcc", "heap_growth.c", ["-O2"], []),
        ["heap_redzone_adaptive"] = new("gcc", "heap_redzone_adaptive.c", ["-O0"], []),
        ["heap_fishy"] = new("gcc", "heap_fishy.c", ["-O0", "-Wno-alloc-size-larger-than"], []),
        ["heap_fishy.static"] = new("gcc", "heap_fishy.c", ["-O0", "-static", "-Wno-alloc-size-larger-than"], []),
        ["heap_mallinfo"] = new("gcc", "heap_mallinfo.c", ["-O0", "-Wno-deprecated-declarations"], []),
        ["heap_mismatch"] = new("g++", "heap_mismatch.cpp", ["-O0", "-Wno-mismatched-new-delete"], []),
        ["heap_fast_path"] = new("g++", "heap_fast_path.cpp", ["-O1", "-Wno-mismatched-new-delete", "-Wno-use-after-free", "-Wno-free-nonheap-object"], []),
        ["heap_fast_path_threads"] = new("gcc", "heap_fast_path_threads.c", ["-O1", "-pthread", "-Wno-use-after-free"], []),
        ["heap_protected_realloc"] = new("gcc", "heap_protected_realloc.c", ["-O1", "-g"], []),
        ["heap_protected_arena"] = new("gcc", "heap_protected_arena.c", ["-O1", "-g"], []),
        ["cxx_bad_alloc"] = new("g++", "cxx_bad_alloc.cpp", ["-O2", "-g"], []),
        ["map_over_tool"] = new("gcc", "map_over_tool.c", ["-O1"], []),
        ["odd_instructions"] = new("gcc", "odd_instructions.c", ["-O2", "-mfsgsbase"], []),
        ["heap_overflow_underflow"] = new("gcc", "heap_overflow_underflow.c", ["-O0"], []),
        ["heap_pop_held"] = new("gcc", "heap_pop_held.c", ["-O0"], []),
        ["heap_overflow_underflow.O2"] = new("gcc", "heap_overflow_underflow.c", ["-O2", "-fomit-frame-pointer"], []),
        ["heap_overflow_underflow.static"] = new("gcc", "heap_overflow_underflow.c", ["-O0", "-static"], []),
        ["heap_use_after_free"] = new("gcc", "heap_use_after_free.c", ["-O0"], []),
        ["heap_realloc_stale"] = new("gcc", "heap_realloc_stale.c", ["-O0"], []),
        ["heap_aligned_overflow"] = new("gcc", "heap_aligned_overflow.c", ["-O0"], []),
        ["string_overflow"] = new("gcc", "string_overflow.c", ["-O0"], []),
        ["string_overflow.O2"] = new("gcc", "string_overflow.c", ["-O2", "-fomit-frame-pointer"], []),
        ["string_overflow_frames"] = new("gcc", "string_overflow_frames.c", ["-O0"], []),
        ["string_overflow_frames.O2"] = new("gcc", "string_overflow_frames.c", ["-O2", "-fomit-frame-pointer"], []),
        ["string_overlap"] = new("gcc", "string_overlap.c", ["-O0", "-fno-builtin"], []),
        ["string_overlap.O2"] = new("gcc", "string_overlap.c", ["-O2", "-fno-builtin", "-fomit-frame-pointer"], []),
        ["stack_below_sp"] = new("gcc", "stack_below_sp.c", ["-O0"], []),
        ["clean_stack_adjust_flags"] = new("gcc", "clean_stack_adjust_flags.c", ["-O2"], []),
        ["clean_exit_liveness"] = new("gcc", "clean_exit_liveness.c", ["-O2"], []),
        ["stack_stale_frame"] = new("gcc", "stack_stale_frame.c", ["-O2"], []),
        ["stack_big_frames"] = new("gcc", "stack_big_frames.c", ["-O2"], []),
        ["string_instructions"] = new("gcc", "string_instructions.c", ["-O2"], []),
        ["heap_rep_strings"] = new("gcc", "heap_rep_strings.c", ["-O2", "-g", "-pthread"], []),
        ["heap_fxsave"] = new("gcc", "heap_fxsave.c", ["-O2", "-mfxsr", "-mxsave"], []),
        ["heap_masked_moves"] = new("gcc", "heap_masked_moves.c", ["-O2", "-mavx2"], []),
        ["uninit_uses"] = new("gcc", "uninit_uses.c", ["-O0"], []),
        ["uninit_uses.O2"] = new("gcc", "uninit_uses.c", ["-O2"], []),
        ["tool_events"] = new("gcc", "tool_events.c", ["-O0"], []),
        ["uninit_callee_saved"] = new("gcc", "uninit_callee_saved.c", ["-O0"], []),
        ["uninit_callee_saved.O2"] = new("gcc", "uninit_callee_saved.c", ["-O2"], []),
        ["uninit_pop_runs"] = new("gcc", "uninit_pop_runs.c", ["-O0"], []),
        ["uninit_pop_runs.O2"] = new("gcc", "uninit_pop_runs.c", ["-O2"], []),
        ["uninit_pop_held"] = new("gcc", "uninit_pop_held.c", ["-O0"], []),
        ["uninit_pop_held.O2"] = new("gcc", "uninit_pop_held.c", ["-O2"], []),
        ["uninit_padding"] = new("gcc", "uninit_padding.c", ["-O0"], []),
        ["uninit_padding.O2"] = new("gcc", "uninit_padding.c", ["-O2"], []),
        ["uninit_enter"] = new("gcc", "uninit_enter.c", ["-O0"], []),
        ["uninit_enter.O2"] = new("gcc", "uninit_enter.c", ["-O2"], []),
        ["uninit_held_scratch"] = new("gcc", "uninit_held_scratch.c", ["-O2"], []),
        ["uninit_foreign_stacks"] = new("gcc", "uninit_foreign_stacks.c", ["-O0"], []),
        ["uninit_foreign_stacks.O2"] = new("gcc", "uninit_foreign_stacks.c", ["-O2"], []),
        ["uninit_stack"] = new("gcc", "uninit_stack.c", ["-O0"], []),
        ["uninit_stack.O2"] = new("gcc", "uninit_stack.c", ["-O2"], []),
        ["uninit_callee_frames"] = new("gcc", "uninit_callee_frames.c", ["-O0"], []),
        ["uninit_callee_frames.O2"] = new("gcc", "uninit_callee_frames.c", ["-O2"], []),
        ["uninit_heap_args"] = new("gcc", "uninit_heap_args.c", ["-O2"], []),
        ["uninit_vector_moves"] = new("gcc", "uninit_vector_moves.c", ["-O2"], []),
        ["uninit_vector_moves.sse41"] = new("gcc", "uninit_vector_moves.c", ["-O2", "-msse4.1"], []),
        ["uninit_global_moves"] = new("gcc", "uninit_global_moves.c", ["-O2"], []),
        ["uninit_doubled_fields"] = new("gcc", "uninit_doubled_fields.c", ["-O2"], []),
        ["uninit_arith_carries"] = new("gcc", "uninit_arith_carries.c", ["-O2"], []),
        ["uninit_vector_shifts"] = new("gcc", "uninit_vector_shifts.c", ["-O2", "-msse4.1"], []),
        ["uninit_conversions"] = new("gcc", "uninit_conversions.c", ["-O2"], []),
        ["hot_lane_sites"] = new("gcc", "hot_lane_sites.c", ["-O2"], []),
        ["uninit_global_moves.nopie"] = new("gcc", "uninit_global_moves.c", ["-O2", "-fno-pie", "-no-pie"], []),
        ["uninit_clean"] = new("gcc", "uninit_clean.c", ["-O2"], []),
        ["uninit_clean.O0"] = new("gcc", "uninit_clean.c", ["-O0"], []),
        ["uninit_clean_cxx"] = new("g++", "uninit_clean_cxx.cpp", ["-O2"], []),
        ["syscall_params"] = new("gcc", "syscall_params.c", ["-O0"], []),
        // Outgoing arguments stored with mov (4 bytes for an int), not pushed: as clang and Chromium pass them.
        ["syscall_int_args"] = new("gcc", "syscall_int_args.c", ["-O2", "-maccumulate-outgoing-args"], []),
        ["syscall_structs_sized"] = new("gcc", "syscall_structs_sized.c", ["-O1"], []),
        ["uninit_avx512"] = new("gcc", "uninit_avx512.c", ["-O3", "-mavx512f"], []),
        ["uninit_x87"] = new("gcc", "uninit_x87.c", ["-O0"], []),
        ["uninit_x87.O2"] = new("gcc", "uninit_x87.c", ["-O2"], []),
        ["uninit_x87.387"] = new("gcc", "uninit_x87.c", ["-O2", "-mfpmath=387"], []),
        ["clean_long_double"] = new("gcc", "clean_long_double.c", ["-O0"], ["-lm"]),
        ["clean_long_double.O2"] = new("gcc", "clean_long_double.c", ["-O2"], ["-lm"]),
        ["clean_long_double.387"] = new("gcc", "clean_long_double.c", ["-O2", "-mfpmath=387"], ["-lm"]),
        ["uninit_permutes"] = new("gcc", "uninit_permutes.c", ["-O2", "-mavx2"], []),
        ["uninit_permutes512"] = new("gcc", "uninit_permutes512.c", ["-O2", "-mavx512f", "-mavx512bw"], []),
        ["uninit_compress"] = new("gcc", "uninit_compress.c", ["-O2", "-mavx512f"], []),
        ["uninit_dup_narrow"] = new("gcc", "uninit_dup_narrow.c", ["-O2", "-mavx512f", "-mavx512bw"], []),
        ["heap_gather_overflow"] = new("gcc", "heap_gather_overflow.c", ["-O2", "-mavx2", "-mavx512f"], []),
        ["uninit_gathers"] = new("gcc", "uninit_gathers.c", ["-O2", "-mavx2"], []),
        ["uninit_gathers512"] = new("gcc", "uninit_gathers512.c", ["-O2", "-mavx512f"], []),
        ["uninit_repeats"] = new("gcc", "uninit_repeats.c", ["-O0"], []),
        ["uninit_repeats.O2"] = new("gcc", "uninit_repeats.c", ["-O2"], []),
        ["uninit_overwritten"] = new("gcc", "uninit_overwritten.c", ["-O0"], []),
        ["uninit_overwritten.O2"] = new("gcc", "uninit_overwritten.c", ["-O2"], []),
        ["uninit_copies"] = new("gcc", "uninit_copies.c", ["-O2"], []),
        ["guarded_mode_copies"] = new("gcc", "guarded_mode_copies.c", ["-O2"], []),
        ["plain_after_propagation"] = new("gcc", "plain_after_propagation.c", ["-O2"], []),
        ["uninit_register_rules"] = new("gcc", "uninit_register_rules.c", ["-O2"], []),
        ["uninit_heap_bitfields"] = new("gcc", "uninit_heap_bitfields.c", ["-O2", "-g"], []),
        ["clean_struct_copies"] = new("gcc", "clean_struct_copies.c", ["-O2"], []),
        ["clean_string_functions"] = new("gcc", "clean_string_functions.c", ["-O2"], []),
        ["clean_string_functions.O0"] = new("gcc", "clean_string_functions.c", ["-O0"], []),
        ["clean_calloc"] = new("gcc", "clean_calloc.c", ["-O2"], []),
        ["clean_hash_qsort"] = new("gcc", "clean_hash_qsort.c", ["-O2"], []),
        ["clean_indirect_victims"] = new("gcc", "clean_indirect_victims.c", ["-O2"], []),
        ["clean_stl_exceptions"] = new("g++", "clean_stl_exceptions.cpp", ["-O2"], []),
        ["fork_errors"] = new("gcc", "fork_errors.c", ["-O0"], []),
        ["cxx_namespaced_frames"] = new("g++", "cxx_namespaced_frames.cpp", ["-O0"], []),
        ["cxx_namespaced_frames.O2"] = new("g++", "cxx_namespaced_frames.cpp", ["-O2"], []),
        // Reports a user can trust (issue 8).
        ["report_to_file"] = new("gcc", "report_to_file.c", ["-O0", "-g"], []),
        ["html_report"] = new("gcc", "html_report.c", ["-O0", "-pthread"], []), // --html (issue 11)
        ["crash_kinds"] = new("gcc", "crash_kinds.c", ["-O0", "-fno-stack-protector"], []),
        ["crash_kinds.O2"] = new("gcc", "crash_kinds.c", ["-O2", "-fno-stack-protector"], []),
        ["terminate_me"] = new("gcc", "terminate_me.c", ["-O1"], []),
        ["signal_forked_child"] = new("gcc", "signal_forked_child.c", ["-O1"], []),
        ["stop_and_continue"] = new("gcc", "stop_and_continue.c", ["-O1", "-g"], []),
        ["job_control"] = new("gcc", "job_control.c", ["-O1"], []),
        ["memory_limits"] = new("gcc", "memory_limits.c", ["-O1", "-g"], []),
        ["dlopen_once"] = new("gcc", "dlopen_once.c", ["-O1"], ["-ldl"]),
        ["uninit_zero_flag_logic"] = new("gcc", "uninit_zero_flag_logic.c", ["-O1", "-g"], []),
        ["uninit_kernel_outputs"] = new("gcc", "uninit_kernel_outputs.c", ["-O2", "-g"], []),
        ["bad_pointers"] = new("gcc", "bad_pointers.c", ["-O1"], []),
        ["guest_region"] = new("gcc", "guest_region.c", ["-O1"], []),
        ["self_exe"] = new("gcc", "self_exe.c", ["-O1"], []),
        ["descriptors"] = new("gcc", "descriptors.c", ["-O0"], []),
        ["exec_after_error"] = new("gcc", "exec_after_error.c", ["-O0"], []),
        ["child_heap_bug"] = new("gcc", "child_heap_bug.c", ["-O0"], []),
        ["child_heap_bug.static"] = new("gcc", "child_heap_bug.c", ["-O0", "-static"], []),
        ["spawn_children"] = new("gcc", "spawn_children.c", ["-O0"], []),
        ["script_interpreter"] = new("gcc", "script_interpreter.c", ["-O0"], []),
        ["large_bss.nopie1g"] = new("gcc", "large_bss.c", ["-O1", "-no-pie", "-DSIZE=(1UL<<30)"], []),
        ["large_bss.pie2g"] = new("gcc", "large_bss.c", ["-O1", "-fPIE", "-pie", "-DSIZE=(1UL<<31)"], []),
        ["large_bss.nopie2g"] = new("gcc", "large_bss.c", ["-O1", "-no-pie", "-DSIZE=(1UL<<31)"], []),
        ["segment_tail.split"] = new("gcc", "segment_tail.c", ["-O1", "-no-pie", "-Wl,-Tdata=0x7ff10000"], []),
        ["segment_tail"] = new("gcc", "segment_tail.c", ["-O1", "-fPIE", "-pie"], []),
        ["segment_tail.static"] = new("gcc", "segment_tail.c", ["-O1", "-static"], []),
        ["segment_tail.gap"] = new("gcc", "segment_tail.c", ["-O1", "-no-pie", "-Wl,-Tdata=0x800000"], []),
        // Valgrind's client requests (issue 11).
        ["client_pool"] = new("gcc", "client_pool.c", ["-O0"], []),
        ["client_pool.O2"] = new("gcc", "client_pool.c", ["-O2"], []),
        ["client_requests"] = new("gcc", "client_requests.c", ["-O0"], []),
        ["client_requests.O2"] = new("gcc", "client_requests.c", ["-O2"], []),
        ["client_remapped_memory"] = new("gcc", "client_remapped_memory.c", ["-O0"], []),
        ["client_mempool_ops"] = new("gcc", "client_mempool_ops.c", ["-O0"], []),
        ["client_mempool_ops.O2"] = new("gcc", "client_mempool_ops.c", ["-O2"], []),
        ["client_wild_ranges"] = new("gcc", "client_wild_ranges.c", ["-O1"], []),
        ["client_discard"] = new("gcc", "client_discard.c", ["-O2"], []),
        ["segment_tail.interp"] = new("gcc", "segment_tail.c", ["-O1", "-Wl,-dynamic-linker,/placeholder/interpreter/path/the/tests/patch/with/a/shorter/one"], []),
        // Suppressions (issue 11).
        ["suppressions"] = new("gcc", "suppressions.c", ["-O0"], []),
        ["suppressions_cxx"] = new("g++", "suppressions_cxx.cpp", ["-O0", "-Wno-mismatched-new-delete"], []),
        ["suppressions_fishy"] = new("g++", "suppressions_fishy.cpp", ["-O0"], []),
    };

    private static readonly ConcurrentDictionary<string, Lazy<string>> _built = new();
    private static readonly Lazy<string> _outputDirectory = new(() => Scratch.NewDirectory("cases"));

    public static string HelloStatic => Get("hello_static");
    public static string StdioQsortSetjmp => Get("stdio_qsort_setjmp");
    public static string CxxExceptions => Get("cxx_exceptions");
    public static string Avx512Loop => Get("avx512_loop");

    /// <summary>The wait_status helper: runs a command and reports on stderr how it ended.</summary>
    public static string WaitStatus => Get("wait_status");

    /// <summary>The path of the compiled case; compiles it if this run hasn't yet.</summary>
    public static string Get(string name)
    {
        if (!_specs.ContainsKey(name))
            throw new ArgumentException($"No case named {name}", nameof(name));
        return _built.GetOrAdd(name, n => new Lazy<string>(() => Compile(n))).Value;
    }

    private static string Compile(string name)
    {
        var spec = _specs[name];
        var source = Path.Combine(RepoPaths.Cases, spec.Source);
        var output = Path.Combine(_outputDirectory.Value, name);
        var args = new List<string>();
        args.AddRange(spec.Flags);
        args.AddRange(["-g", "-o", output, source]);
        args.AddRange(spec.Libraries);

        var result = ProcessRunner.Run(spec.Compiler, args, timeout: TimeSpan.FromSeconds(300));
        if (result.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException(
                $"Compiling case {name} failed (exit {result.ExitCode}): {result.CommandLine}\n{result.StderrText}{result.StdoutText}");
        }
        return output;
    }
}
