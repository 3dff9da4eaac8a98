using System.Text;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The heap operations of a vfork child, for its parent to repeat. Natively a vfork child shares
/// its parent's memory, heap included: a block it allocates (dash's vfork child does) is the
/// parent's to use and free. Under memcheck the child is a copy, and the allocator's state is
/// memcheck's own, so the child records each allocation, free and trim here, and the parent, whose
/// heap was identical at the fork and has not changed since (it waits for the child), performs the
/// same operations in the same order: the allocator being deterministic, it reaches the child's
/// state, blocks at the same addresses with the child's callstacks and shadow. Errors were the
/// child's to report; they are not reported again.
/// </summary>
public sealed class HeapJournal
{
    private enum Operation : byte { Allocate = 1, Free = 2, Trim = 3 }

    private readonly MemoryStream _bytes = new();
    private readonly BinaryWriter _writer;

    public HeapJournal() => _writer = new BinaryWriter(_bytes, Encoding.UTF8, leaveOpen: true);

    public bool IsEmpty => _bytes.Length == 0;

    internal void Allocated(ulong size, ulong alignment, AllocationKind kind, ulong[] stack, ulong result, byte routine)
    {
        _writer.Write((byte)Operation.Allocate);
        _writer.Write(size);
        _writer.Write(alignment);
        _writer.Write((byte)kind);
        _writer.Write(routine);
        WriteStack(stack);
        _writer.Write(result);
    }

    internal void Freed(ulong address, AllocationKind kind, string routine, ulong[] stack)
    {
        _writer.Write((byte)Operation.Free);
        _writer.Write(address);
        _writer.Write((byte)kind);
        _writer.Write(routine);
        WriteStack(stack);
    }

    internal void Trimmed() => _writer.Write((byte)Operation.Trim);

    /// <summary>What was recorded since the last call, encoded; the journal starts empty again.</summary>
    public byte[] Take()
    {
        _writer.Flush();
        byte[] bytes = _bytes.ToArray();
        _bytes.SetLength(0);
        return bytes;
    }

    /// <summary>
    /// Performs the encoded operations on <paramref name="heap"/>, with its error reports off.
    /// Throws <see cref="EngineException"/> if an allocation lands elsewhere than it did in the child.
    /// </summary>
    public static void Replay(byte[] encoded, GuestHeap heap)
    {
        Action<HeapError>? errors = heap.Errors;
        heap.Errors = null;
        try
        {
            using var reader = new BinaryReader(new MemoryStream(encoded), Encoding.UTF8);
            while (reader.BaseStream.Position < reader.BaseStream.Length)
            {
                switch ((Operation)reader.ReadByte())
                {
                    case Operation.Allocate:
                    {
                        ulong size = reader.ReadUInt64(), alignment = reader.ReadUInt64();
                        var kind = (AllocationKind)reader.ReadByte();
                        byte routine = reader.ReadByte();
                        ulong[] stack = ReadStack(reader);
                        ulong expected = reader.ReadUInt64();
                        ulong user = heap.Allocate(size, alignment, kind, stack, routine);
                        if (user != expected)
                            throw new Checker.Engine.EngineException($"a vfork child's allocation of {size} bytes at 0x{expected:x} came out at 0x{user:x} in its parent");
                        break;
                    }
                    case Operation.Free:
                    {
                        ulong address = reader.ReadUInt64();
                        var kind = (AllocationKind)reader.ReadByte();
                        string routine = reader.ReadString();
                        heap.Free(address, kind, routine, ReadStack(reader));
                        break;
                    }
                    case Operation.Trim:
                        heap.Trim();
                        break;
                    default:
                        throw new Checker.Engine.EngineException("a vfork child's heap journal is damaged");
                }
            }
        }
        finally { heap.Errors = errors; }
    }

    private void WriteStack(ulong[] stack)
    {
        _writer.Write(stack.Length);
        foreach (ulong pc in stack) _writer.Write(pc);
    }

    private static ulong[] ReadStack(BinaryReader reader)
    {
        var stack = new ulong[reader.ReadInt32()];
        for (int i = 0; i < stack.Length; i++) stack[i] = reader.ReadUInt64();
        return stack;
    }
}
