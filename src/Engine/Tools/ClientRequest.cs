namespace Checker.Engine.Tools;

/// <summary>
/// One of Valgrind's client requests, as a program annotated with valgrind.h/memcheck.h makes it:
/// the magic sequence (four <c>rol rdi</c> and <c>xchg rbx, rbx</c>) with rax pointing at six words
/// (the request's code and five arguments) and rdx holding the answer the program gets natively.
/// The translator turns the sequence into an exit (<see cref="Translation.ClientRequestPreamble"/>);
/// the engine answers what Valgrind's core answers (<see cref="Codes"/>) and hands the rest to
/// <see cref="Tool.OnClientRequest"/>, whose result goes back in rdx.
/// </summary>
/// <param name="Pc">The first instruction of the sequence (the request's source line).</param>
/// <param name="NextPc">Where the program goes on after it.</param>
public readonly record struct ClientRequest(ulong Pc, ulong NextPc, ulong Code, ulong Arg1, ulong Arg2, ulong Arg3, ulong Arg4, ulong Arg5, ulong Default)
{
    /// <summary>Valgrind's tool base: a tool's requests are <c>('X' &lt;&lt; 24 | 'Y' &lt;&lt; 16) + n</c> (memcheck's are 'M','C').</summary>
    public static ulong ToolBase(char a, char b) => ((ulong)a & 0xff) << 24 | ((ulong)b & 0xff) << 16;

    /// <summary>Whether the request belongs to the tool whose base is <paramref name="a"/>, <paramref name="b"/>.</summary>
    public bool IsToolRequest(char a, char b) => (Code & 0xffff_0000) == ToolBase(a, b);

    /// <summary>The core's request codes (valgrind.h's Vg_ClientRequest) the engine and tools refer to.</summary>
    public static class Codes
    {
        public const ulong RunningOnValgrind = 0x1001;
        public const ulong DiscardTranslations = 0x1002;
        public const ulong CountErrors = 0x1201;
        public const ulong MallocLikeBlock = 0x1301;
        public const ulong FreeLikeBlock = 0x1302;
        public const ulong CreateMempool = 0x1303;
        public const ulong DestroyMempool = 0x1304;
        public const ulong MempoolAlloc = 0x1305;
        public const ulong MempoolFree = 0x1306;
        public const ulong MempoolTrim = 0x1307;
        public const ulong MoveMempool = 0x1308;
        public const ulong MempoolChange = 0x1309;
        public const ulong MempoolExists = 0x130a;
        public const ulong ResizeInPlaceBlock = 0x130b;
        public const ulong Printf = 0x1401;
        public const ulong PrintfBacktrace = 0x1402;
        public const ulong PrintfValistByRef = 0x1403;
        public const ulong PrintfBacktraceValistByRef = 0x1404;
        public const ulong StackRegister = 0x1501;
        public const ulong StackDeregister = 0x1502;
        public const ulong StackChange = 0x1503;
        public const ulong ChangeErrorDisablement = 0x1801;
    }
}
