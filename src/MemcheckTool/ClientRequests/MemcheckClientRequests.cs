using System.Runtime.Versioning;
using System.Text;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Tools;
using Checker.MemcheckTool.Definedness;
using Checker.MemcheckTool.Heap;
using Checker.Shadow;
using Checker.Symbols.Unwinding;
using Codes = Checker.Engine.Tools.ClientRequest.Codes;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// memcheck's answers to Valgrind's client requests (valgrind.h and memcheck.h), as Valgrind's
/// memcheck and core give them, one table row per request: custom allocators (MALLOCLIKE,
/// FREELIKE, RESIZEINPLACE, the MEMPOOL family: <see cref="CustomBlocks"/>), the shadow
/// (MAKE_MEM_*, CHECK_MEM_IS_*, GET/SET_VBITS), leak checks and their counts, COUNT_ERRORS,
/// DISABLE/ENABLE_ERROR_REPORTING, CREATE_BLOCK/DISCARD and PRINTF. A request not in the table
/// answers its default (null here). Requests run under the cache lock, as the heap's calls and the
/// slow path's reports do, except the leak check, which stops the other threads first.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe partial class MemcheckClientRequests
{
    private readonly Dictionary<ulong, Func<RequestCall, ulong?>> _handlers = new();
    private readonly CustomBlocks _blocks;
    private readonly ClientBlockDescriptions _descriptions = new();
    private readonly RequestShadow _shadow;
    private readonly LeakDeltas _deltas = new();
    private readonly ShadowState _fresh;
    private readonly GuestHeap _heap;
    private readonly MemoryDefinedness? _definedness;
    private readonly object _lock;
    private readonly Func<IReadOnlyList<LeakedBlock>?> _scanNow;
    private readonly int _maxFrames;
    private readonly FrameRuleCache? _rules;
    // VALGRIND_PRINTF text after its last newline: Valgrind goes on with that line at the next message.
    private string _pendingLine = "";

    internal MemcheckClientRequests(RequestShadow shadow, GuestHeap heap, MemoryDefinedness? definedness, object cacheLock,
        Func<IReadOnlyList<LeakedBlock>?> scanNow, int maxFrames, FrameRuleCache? rules)
    {
        _shadow = shadow;
        _fresh = heap.FreshState;
        _heap = heap;
        _definedness = definedness;
        _lock = cacheLock;
        _scanNow = scanNow;
        _maxFrames = maxFrames;
        _rules = rules;
        _blocks = new CustomBlocks(shadow, heap.FreshState, heap.DelayFreesBytes) { Errors = e => heap.Errors?.Invoke(e) };
        AddCoreRequests();
        AddBlockRequests();
        AddShadowRequests();
        AddLeakRequests();
    }

    public ClientRequestReports Reports { get; } = new();

    /// <summary>Whether the program runs an allocator of its own, unreplaced (<see cref="CustomBlocks.UntrackedAllocator"/>).</summary>
    public Func<bool>? UntrackedAllocator
    {
        get => _blocks.UntrackedAllocator;
        set => _blocks.UntrackedAllocator = value;
    }

    /// <summary>What the last leak check found (zeros before any), for COUNT_LEAKS; set by the tool after each scan.</summary>
    public LeakCounts LastLeakCounts { get; set; }

    /// <summary>The custom block an error at <paramref name="address"/> is about (the heap asks first).</summary>
    internal HeapChunk? FindBlock(ulong address) => _blocks.Find(address);

    /// <summary>How <paramref name="address"/> relates to a range VALGRIND_CREATE_BLOCK named, or null.</summary>
    internal string? DescribeClientBlock(ulong address) => _descriptions.Describe(address);

    /// <summary>The blocks the leak scan classifies: the heap's and the custom ones (<see cref="ClientRequests.LeakCandidates"/>).</summary>
    internal IReadOnlyCollection<HeapChunk> LeakCandidates(IReadOnlyCollection<HeapChunk> heap) => ClientRequests.LeakCandidates.Merge(heap, _blocks.Live);

    /// <summary>The answer to <paramref name="request"/>, or null when memcheck has none (the program keeps its default).</summary>
    public ulong? Handle(ContextBlock* context, ClientRequest request)
    {
        if (!_handlers.TryGetValue(request.Code, out Func<RequestCall, ulong?>? handler)) return null;
        var call = new RequestCall(context, request, _maxFrames, _rules);
        if (request.Code == MemcheckRequestCodes.DoLeakCheck) return handler(call);
        lock (_lock) return handler(call);
    }

    private void Add(ulong code, Func<RequestCall, ulong?> handler) => _handlers.Add(code, handler);

    /// <summary>What Valgrind's core answers for every tool: errors counted and switched off, the program's own messages.</summary>
    private void AddCoreRequests()
    {
        Add(Codes.CountErrors, _ => (ulong)(Reports.ErrorCount?.Invoke() ?? 0));
        Add(Codes.ChangeErrorDisablement, c => { ErrorReporting.Change((long)c.Request.Arg1); return 0; });
        // On amd64 a va_list is an array, so the deprecated by-value forms pass its address too.
        foreach (ulong code in new[] { Codes.Printf, Codes.PrintfValistByRef }) Add(code, c => Print(c, backtrace: false));
        foreach (ulong code in new[] { Codes.PrintfBacktrace, Codes.PrintfBacktraceValistByRef }) Add(code, c => Print(c, backtrace: true));
    }

    private void AddBlockRequests()
    {
        Add(Codes.MallocLikeBlock, c => Done(() => _blocks.MallocLike(c.Request.Arg1, c.Request.Arg2, c.Request.Arg3, c.Request.Arg4 != 0, c.BlockStack)));
        Add(Codes.FreeLikeBlock, c => Done(() => _blocks.FreeLike(c.Request.Arg1, c.Request.Arg2, c.BlockStack)));
        Add(Codes.ResizeInPlaceBlock, c => Done(() => _blocks.ResizeInPlace(c.Request.Arg1, c.Request.Arg2, c.Request.Arg3, c.Request.Arg4, c.BlockStack)));
        Add(Codes.CreateMempool, c => Done(() => _blocks.CreatePool(c.Request.Arg1, c.Request.Arg2, c.Request.Arg3 != 0, c.Request.Arg4)));
        Add(Codes.DestroyMempool, c => Done(() => _blocks.DestroyPool(c.Request.Arg1, c.BlockStack)));
        Add(Codes.MempoolAlloc, c => Done(() => _blocks.PoolAlloc(c.Request.Arg1, c.Request.Arg2, c.Request.Arg3, c.BlockStack)));
        Add(Codes.MempoolFree, c => Done(() => _blocks.PoolFree(c.Request.Arg1, c.Request.Arg2, c.BlockStack)));
        Add(Codes.MempoolTrim, c => Done(() => _blocks.PoolTrim(c.Request.Arg1, c.Request.Arg2, c.Request.Arg3, c.BlockStack)));
        Add(Codes.MoveMempool, c => Done(() => _blocks.MovePool(c.Request.Arg1, c.Request.Arg2, c.BlockStack)));
        Add(Codes.MempoolChange, c => Done(() => _blocks.PoolChange(c.Request.Arg1, c.Request.Arg2, c.Request.Arg3, c.Request.Arg4, c.BlockStack)));
        Add(Codes.MempoolExists, c => _blocks.PoolExists(c.Request.Arg1) ? 1UL : 0);
        Add(MemcheckRequestCodes.CreateBlock, c => _descriptions.Create(c.Request.Arg1, c.Request.Arg2,
            GuestMemory.TryReadCString(c.Request.Arg3) ?? "(unreadable description)"));
        Add(MemcheckRequestCodes.Discard, c => _descriptions.Discard(c.Request.Arg2));
    }

    /// <summary>Statement-like requests: their value means nothing (0).</summary>
    private static ulong? Done(Action action)
    {
        action();
        return 0;
    }

    /// <summary>VALGRIND_PRINTF(_BACKTRACE): the formatted text on memcheck's output; its length in bytes is the answer.</summary>
    private ulong? Print(RequestCall call, bool backtrace)
    {
        byte[]? format = ReadString(call.Request.Arg1, 1 << 16);
        if (format == null) return 0;
        IVarArgs args = GuestVaList.At(call.Request.Arg2) is GuestVaList list ? list : NoArgs.Instance;
        byte[] formatted = ClientPrintf.Format(format, args, ReadString);
        string text = _pendingLine + Encoding.UTF8.GetString(formatted);
        int complete = backtrace ? text.Length : text.LastIndexOf('\n') + 1;
        _pendingLine = text[complete..];
        if (complete > 0) Reports.Messages?.Invoke(text[..complete], backtrace ? call.Stack : null);
        return (ulong)formatted.Length;
    }

    /// <summary>A VALGRIND_PRINTF line the program never ended is written as it stands (the process ends or execs).</summary>
    public void FlushMessages()
    {
        lock (_lock)
        {
            if (_pendingLine.Length == 0) return;
            Reports.Messages?.Invoke(_pendingLine, null);
            _pendingLine = "";
        }
    }

    /// <summary>At most <paramref name="max"/> bytes of the string at <paramref name="address"/>, up to its NUL or the first unreadable byte; null when none is readable.</summary>
    private static byte[]? ReadString(ulong address, int max)
    {
        var bytes = new List<byte>();
        Span<byte> chunk = stackalloc byte[256];
        while (bytes.Count < max)
        {
            int length = (int)Math.Min(Math.Min((ulong)chunk.Length, 4096 - (address & 4095)), (ulong)(max - bytes.Count));
            if (!GuestMemory.TryRead(address, chunk[..length])) return bytes.Count > 0 ? bytes.ToArray() : null;
            int end = chunk[..length].IndexOf((byte)0);
            bytes.AddRange(chunk[..(end >= 0 ? end : length)]);
            if (end >= 0) break;
            address += (ulong)length;
        }
        return bytes.ToArray();
    }

    private sealed class NoArgs : IVarArgs
    {
        public static readonly NoArgs Instance = new();
        public ulong NextInteger() => 0;
        public double NextDouble() => 0;
    }
}
