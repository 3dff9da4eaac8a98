using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Dispatch;

/// <summary>What the kernel does for a thread that exits while others run on.</summary>
[SupportedOSPlatform("linux")]
internal static unsafe class ThreadExit
{
    public static void WriteTid(ulong address, uint tid) => GuestMemory.TryWrite(address, new ReadOnlySpan<byte>(&tid, 4));

    /// <summary>
    /// What the kernel does when a thread exits: robust mutexes it still holds are marked
    /// FUTEX_OWNER_DIED (and a waiter woken), then clear_child_tid is zeroed and a joiner woken.
    /// </summary>
    public static void Release(GuestThread thread, KernelInterface kernel)
    {
        const int FutexWake = 1;
        ReleaseRobustMutexes(thread, kernel);
        if (thread.ClearChildTid == 0) return;
        WriteTid(thread.ClearChildTid, 0);
        kernel.Call(SyscallNumbers.Futex, (long)thread.ClearChildTid, FutexWake, 1);
    }

    /// <summary>The kernel's exit_robust_list: walks the thread's robust list (read defensively, at most 2048 entries).</summary>
    private static void ReleaseRobustMutexes(GuestThread thread, KernelInterface kernel)
    {
        const uint FutexWaiters = 0x8000_0000, FutexOwnerDied = 0x4000_0000, FutexTidMask = 0x3fff_ffff;
        const int FutexWake = 1;
        ulong head = thread.RobustList;
        if (head == 0 || !GuestMemory.TryReadUInt64(head, out ulong entry) || !GuestMemory.TryReadUInt64(head + 8, out ulong offset)
            || !GuestMemory.TryReadUInt64(head + 16, out ulong pending)) return;
        uint tid = (uint)thread.Tid;
        void Release(ulong node)
        {
            ulong word = node + offset;
            Span<byte> value = stackalloc byte[4];
            if (!GuestMemory.TryRead(word, value)) return;
            uint current = BitConverter.ToUInt32(value);
            if ((current & FutexTidMask) != tid) return;
            uint released = (current & FutexWaiters) | FutexOwnerDied;
            GuestMemory.TryWrite(word, BitConverter.GetBytes(released));
            if ((current & FutexWaiters) != 0) kernel.Call(SyscallNumbers.Futex, (long)word, FutexWake, 1);
        }
        for (int i = 0; i < 2048 && entry != head && entry != 0; i++)
        {
            ulong next = 0;
            if (!GuestMemory.TryReadUInt64(entry & ~1UL, out next)) break;
            if ((entry & ~1UL) != pending) Release(entry & ~1UL);
            entry = next;
        }
        if (pending != 0) Release(pending & ~1UL);
    }
}
