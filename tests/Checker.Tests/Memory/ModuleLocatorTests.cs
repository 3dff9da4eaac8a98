using Checker.Engine.Memory;
using Xunit;

namespace Checker.Tests.Memory;

/// <summary>Finding the file mapping that holds an address, read afresh or from a snapshot of /proc/self/maps.</summary>
public class ModuleLocatorTests
{
    [Fact]
    public void Snapshot_FindsWhatAFreshReadFinds()
    {
        FileMapping[] snapshot = ModuleLocator.Snapshot();
        Assert.NotEmpty(snapshot);
        for (int i = 1; i < snapshot.Length; i++) Assert.True(snapshot[i - 1].End <= snapshot[i].Start, "the kernel lists mappings by address");
        // Shared libraries only: they stay mapped while the test runs (other tests map and unmap files).
        foreach (FileMapping m in snapshot.Where(m => m.Path.Contains(".so")))
        {
            foreach (ulong address in new[] { m.Start, m.Start + (m.End - m.Start) / 2, m.End - 1 })
                Assert.Equal(ModuleLocator.Find(address), ModuleLocator.Find(snapshot, address));
        }
        Assert.Null(ModuleLocator.Find(snapshot, 0x1000));
    }

    /// <summary>
    /// lld's layout (libcoreclr.so's): a read-only segment ends in the file page where the text
    /// segment begins, and the text sits a page higher in memory than in the file. The text mapping's
    /// file page is then in both PT_LOADs; the first one's bias put every pc of the text a page off
    /// (libcoreclr.so+0x237d4d for the cmov at 0x238d4d). The mapping's execute permission picks the segment.
    /// </summary>
    [Fact]
    public void LoadBias_OfATextMappingSharingItsFilePageWithTheSegmentBefore()
    {
        // ELF64 header and two PT_LOADs: R at offset 0 (0x1998 bytes, vaddr 0), R+X at offset 0x19a0
        // (vaddr 0x29a0): the text's first page is file page 0x1000, memory page 0x2000.
        var elf = new byte[0x2000];
        new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }.CopyTo(elf, 0);
        elf[4] = 2; elf[5] = 1; elf[6] = 1;
        BitConverter.TryWriteBytes(elf.AsSpan(16), (ushort)3);      // ET_DYN
        BitConverter.TryWriteBytes(elf.AsSpan(18), (ushort)62);     // EM_X86_64
        BitConverter.TryWriteBytes(elf.AsSpan(32), 64UL);           // e_phoff
        BitConverter.TryWriteBytes(elf.AsSpan(52), (ushort)64);     // e_ehsize
        BitConverter.TryWriteBytes(elf.AsSpan(54), (ushort)56);     // e_phentsize
        BitConverter.TryWriteBytes(elf.AsSpan(56), (ushort)2);      // e_phnum
        void Load(int at, uint flags, ulong offset, ulong vaddr, ulong size)
        {
            BitConverter.TryWriteBytes(elf.AsSpan(at), 1u);          // PT_LOAD
            BitConverter.TryWriteBytes(elf.AsSpan(at + 4), flags);
            BitConverter.TryWriteBytes(elf.AsSpan(at + 8), offset);
            BitConverter.TryWriteBytes(elf.AsSpan(at + 16), vaddr);
            BitConverter.TryWriteBytes(elf.AsSpan(at + 24), vaddr);
            BitConverter.TryWriteBytes(elf.AsSpan(at + 32), size);
            BitConverter.TryWriteBytes(elf.AsSpan(at + 40), size);
            BitConverter.TryWriteBytes(elf.AsSpan(at + 48), 0x1000UL);
        }
        Load(64, 4, 0, 0, 0x1998);                                  // R
        Load(64 + 56, 5, 0x19a0, 0x29a0, 0x600);                    // R+X
        string path = Path.Combine(Checker.Tests.EndToEnd.Scratch.NewDirectory("lld-layout"), "liblld.so");
        File.WriteAllBytes(path, elf);

        const ulong textMapping = 0x7f00_0000_2000;   // where the text's file page 0x1000 is mapped (bias 0x7f00_0000_0000)
        Assert.Equal(0x7f00_0000_0000UL, ModuleLocator.LoadBias(path, textMapping, 0x1000, executable: true));
        // The read-only mapping of the same file page (the first segment's tail) keeps its own bias.
        Assert.Equal(0x7f00_0000_0000UL, ModuleLocator.LoadBias(path, 0x7f00_0000_0000, 0, executable: false));
        Assert.Equal(0x7f00_0000_0000UL, ModuleLocator.LoadBias(path, 0x7f00_0000_1000, 0x1000, executable: false));
    }
}
