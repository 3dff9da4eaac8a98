using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Tools;
using Checker.Engine.Translation;

namespace Checker.Engine.Dispatch;

/// <summary>
/// The engine's side of Valgrind's client requests, as Valgrind's core handles them before its tool:
/// reads the request block rax points at, answers RUNNING_ON_VALGRIND (1: one level of checking)
/// and DISCARD_TRANSLATIONS (flushes the range, for JITs that rewrite code), ignores the block
/// requests with a NULL address (as the core does), and asks the tool for the rest. The answer goes
/// in rdx; a request block the program cannot read leaves rdx as it was (the default).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class ClientRequests(TranslationCache cache, Tool tool)
{
    public void Answer(GuestThread thread, ulong nextPc)
    {
        ContextBlock* context = thread.Context;
        Span<ulong> block = stackalloc ulong[6];
        if (!GuestMemory.TryRead(context->Rax, MemoryMarshal.AsBytes(block))) return;
        var request = new ClientRequest(nextPc - ClientRequestPreamble.Length, nextPc, block[0], block[1], block[2], block[3], block[4], block[5], context->Rdx);
        context->Rdx = Answer(thread, request);
    }

    private ulong Answer(GuestThread thread, in ClientRequest request)
    {
        switch (request.Code)
        {
            case ClientRequest.Codes.RunningOnValgrind:
                return 1;
            case ClientRequest.Codes.DiscardTranslations:
                // Whole pages: a fragment's translation may depend on code after its exits on its own
                // pages (BlockTranslator.ExitFacts), which a byte range would not reach.
                if (request.Arg2 != 0 && request.Arg1 + request.Arg2 > request.Arg1)
                    lock (cache.Lock) cache.FlushChangedCode(request.Arg1 & ~0xfffUL, ((request.Arg1 + request.Arg2 - 1) | 0xfffUL) + 1);
                return 0;
            case ClientRequest.Codes.MallocLikeBlock or ClientRequest.Codes.FreeLikeBlock or ClientRequest.Codes.ResizeInPlaceBlock when request.Arg1 == 0:
                return 0;
            default:
                return tool.OnClientRequest(thread, request);
        }
    }
}
