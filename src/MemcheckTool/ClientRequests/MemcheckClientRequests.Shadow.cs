using Checker.Engine.Native;
using Checker.Shadow;
using Codes = Checker.MemcheckTool.ClientRequests.MemcheckRequestCodes;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// The shadow requests of memcheck.h: MAKE_MEM_NOACCESS/UNDEFINED/DEFINED/DEFINED_IF_ADDRESSABLE
/// (answer -1, as memcheck's), CHECK_MEM_IS_ADDRESSABLE/DEFINED (a ClientCheck error and the first
/// bad byte, else 0), GET_VBITS/SET_VBITS (1 done, 3 when a byte of either range is unaddressable).
/// </summary>
public sealed unsafe partial class MemcheckClientRequests
{
    private const ulong MadeMemory = ulong.MaxValue;

    private void AddShadowRequests()
    {
        Add(Codes.MakeMemNoAccess, c => Made(() => _shadow.Set(c.Request.Arg1, c.Request.Arg2, ShadowState.Unaddressable)));
        // Undefined only where definedness is checked; else addressable is all there is.
        Add(Codes.MakeMemUndefined, c => Made(() => _shadow.Set(c.Request.Arg1, c.Request.Arg2, _fresh)));
        Add(Codes.MakeMemDefined, c => Made(() => _shadow.Set(c.Request.Arg1, c.Request.Arg2, ShadowState.Defined)));
        Add(Codes.MakeMemDefinedIfAddressable, c => Made(() => _shadow.DefineIfAddressable(c.Request.Arg1, c.Request.Arg2)));
        Add(Codes.CheckMemIsAddressable, CheckAddressable);
        Add(Codes.CheckMemIsDefined, CheckDefined);
        Add(Codes.GetVbits, c => Vbits(c.Request.Arg1, c.Request.Arg2, c.Request.Arg3, set: false));
        Add(Codes.SetVbits, c => Vbits(c.Request.Arg1, c.Request.Arg2, c.Request.Arg3, set: true));
    }

    private static ulong? Made(Action action)
    {
        action();
        return MadeMemory;
    }

    private ulong? CheckAddressable(RequestCall call)
    {
        (ulong start, ulong length) = (call.Request.Arg1, call.Request.Arg2);
        if (_shadow.FirstUnaddressable(start, length) is not ulong bad) return 0;
        Report(call, "VALGRIND_CHECK_MEM_IS_ADDRESSABLE", bad, undefined: false);
        return bad;
    }

    /// <summary>Valgrind's comprehensive check: the first undefined and the first unaddressable byte are both reported; the lower is the answer.</summary>
    private ulong? CheckDefined(RequestCall call)
    {
        (ulong start, ulong length) = (call.Request.Arg1, call.Request.Arg2);
        ulong? badA = _shadow.FirstUnaddressable(start, length);
        ulong? badV = _definedness != null ? _shadow.FirstUndefined(start, length) : null;
        if (badV is ulong v) Report(call, "VALGRIND_CHECK_MEM_IS_DEFINED", v, undefined: true);
        if (badA is ulong a) Report(call, "VALGRIND_CHECK_MEM_IS_DEFINED", a, undefined: false);
        return badV is ulong first && (badA is not ulong other || first < other) ? first : badA ?? 0;
    }

    private void Report(RequestCall call, string request, ulong bad, bool undefined) =>
        Reports.Errors?.Invoke(new ClientCheckError(request, call.Request.Arg1, call.Request.Arg2, bad, undefined, call.Stack,
            _heap.FindBlock(bad), _descriptions.Describe(bad)));

    /// <summary>
    /// GET_VBITS copies the undefined bits of each byte of [address, +length) into the program's
    /// array (which becomes defined); SET_VBITS sets them from it. Nothing is copied when a byte of
    /// either range is unaddressable (3).
    /// </summary>
    private ulong? Vbits(ulong address, ulong array, ulong length, bool set)
    {
        if (length > int.MaxValue) return 3;
        if (_shadow.FirstUnaddressable(address, length) != null || _shadow.FirstUnaddressable(array, length) != null) return 3;
        var vbits = new byte[length];
        if (set)
        {
            if (!GuestMemory.TryRead(array, vbits)) return 3;
            _definedness?.Write(address, vbits, anywhere: true);
            return 1;
        }
        _definedness?.Read(address, vbits);
        if (!GuestMemory.TryWrite(array, vbits)) return 3;
        _shadow.Set(array, length, ShadowState.Defined);
        return 1;
    }
}
