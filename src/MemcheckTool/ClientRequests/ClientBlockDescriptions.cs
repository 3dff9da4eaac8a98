namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// VALGRIND_CREATE_BLOCK and VALGRIND_DISCARD: names the program gives address ranges, mentioned by
/// every error about an address in (or within 16 bytes of, Valgrind's margin) such a range. A
/// handle is the block's index; a discarded index is given out again, as Valgrind's table does.
/// </summary>
internal sealed class ClientBlockDescriptions
{
    private const ulong Margin = 16;
    private readonly List<(ulong Start, ulong Size, string Name)?> _blocks = [];

    /// <summary>The handle of a new description; <see cref="ulong.MaxValue"/> (-1) for an empty range or a NULL start.</summary>
    public ulong Create(ulong start, ulong size, string name)
    {
        if (start == 0 || size == 0) return ulong.MaxValue;
        int free = _blocks.IndexOf(null);
        if (free < 0)
        {
            _blocks.Add((start, size, name));
            return (ulong)(_blocks.Count - 1);
        }
        _blocks[free] = (start, size, name);
        return (ulong)free;
    }

    /// <summary>0 when <paramref name="handle"/> named a block, 1 for an invalid handle (Valgrind's answers).</summary>
    public ulong Discard(ulong handle)
    {
        if (handle >= (ulong)_blocks.Count || _blocks[(int)handle] == null) return 1;
        _blocks[(int)handle] = null;
        return 0;
    }

    /// <summary>How <paramref name="address"/> relates to the newest description around it, or null.</summary>
    public string? Describe(ulong address)
    {
        for (int i = _blocks.Count - 1; i >= 0; i--)
        {
            if (_blocks[i] is not (ulong start, ulong size, string name)) continue;
            ulong end = start + size;
            string where;
            if (address >= start && address < end) where = $"{address - start} byte(s) inside";
            else if (address < start && start - address <= Margin) where = $"{start - address} byte(s) before";
            else if (address >= end && address - end < Margin) where = $"{address - end} byte(s) after";
            else continue;
            return $"{where} the {size}-byte block described as \"{name}\" (VALGRIND_CREATE_BLOCK)";
        }
        return null;
    }
}
