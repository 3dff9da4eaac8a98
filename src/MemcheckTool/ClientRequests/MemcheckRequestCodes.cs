using System.Runtime.Versioning;
using Checker.Engine.Tools;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>memcheck.h's requests (Vg_MemCheckClientRequest): memcheck's tool base ('M','C') and its numbering.</summary>
[SupportedOSPlatform("linux")]
public static class MemcheckRequestCodes
{
    public static readonly ulong Base = ClientRequest.ToolBase('M', 'C');
    public static readonly ulong MakeMemNoAccess = Base + 0;
    public static readonly ulong MakeMemUndefined = Base + 1;
    public static readonly ulong MakeMemDefined = Base + 2;
    public static readonly ulong Discard = Base + 3;
    public static readonly ulong CheckMemIsAddressable = Base + 4;
    public static readonly ulong CheckMemIsDefined = Base + 5;
    public static readonly ulong DoLeakCheck = Base + 6;
    public static readonly ulong CountLeaks = Base + 7;
    public static readonly ulong GetVbits = Base + 8;
    public static readonly ulong SetVbits = Base + 9;
    public static readonly ulong CreateBlock = Base + 10;
    public static readonly ulong MakeMemDefinedIfAddressable = Base + 11;
    public static readonly ulong CountLeakBlocks = Base + 12;
    public static readonly ulong EnableAddrErrorReportingInRange = Base + 13;
    public static readonly ulong DisableAddrErrorReportingInRange = Base + 14;
}
