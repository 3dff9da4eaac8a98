// The shadow encoding: two bits per application byte, four bytes per shadow byte.
//
//   00 Defined        addressable, every bit of the value known to be initialized
//   01 Undefined      addressable, value not initialized (fresh malloc, stack growth)
//   10 BitLevel       addressable, partly defined: the exact defined bits live in a side table
//                     (not built yet; a later issue)
//   11 Unaddressable  must not be accessed: heap redzones, freed and unallocated heap, the stack
//                     beyond its top
//
// Why these values:
// - 00 = Defined makes untouched shadow (the kernel's zero pages) correct for everything the tool
//   has not marked: fresh anonymous mmap (zero-filled by the kernel), bss, file mappings, memory
//   that existed before the tool looked. Unaddressable is only what the tool marks. It also makes
//   the inline fast path one compare with zero: 4 aligned bytes are fine iff their shadow byte is 0,
//   8 aligned bytes iff their 16-bit shadow word is 0.
// - 11 = Unaddressable fills a redzone or a freed block with 0xFF, and "any unaddressable byte in
//   this shadow byte" is (b & (b >> 1) & 0x55) != 0, independent of definedness.
// - 01 = Undefined fills a fresh allocation with 0x55; the low bit alone says "not plain defined at
//   byte level" for Undefined and Unaddressable alike.

namespace Checker.Shadow;

/// <summary>
/// The state of one application byte in shadow memory (2 bits; see the encoding at the top of this
/// file). The numeric values are the bit patterns stored in the shadow and used by generated code.
/// </summary>
public enum ShadowState : byte
{
    /// <summary>00: addressable and initialized (also the state of untouched shadow).</summary>
    Defined = 0b00,

    /// <summary>01: addressable, not initialized.</summary>
    Undefined = 0b01,

    /// <summary>10: addressable, defined at bit level: the exact bits are kept in a side table.</summary>
    BitLevel = 0b10,

    /// <summary>11: not addressable (redzones, freed or unallocated heap, beyond the stack top).</summary>
    Unaddressable = 0b11,
}
