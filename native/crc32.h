// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib and src/quant/crc32.ts compute it)
// for the snapshot load, which checks every byte it reads without handing them to JavaScript.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quiver {

// The CRC-32 of `bytes` bytes at `data`, continuing `previous` (the CRC of the bytes before, 0 for
// none): Crc32(b, n, Crc32(a, m, 0)) is the CRC of a then b. On x86-64 with PCLMULQDQ and SSE4.1
// (unless QUIVERDB_PORTABLE_KERNELS=1) runs of 64 bytes or more are folded with carry-less
// multiplication; everything else goes through an eight-table loop.
std::uint32_t Crc32(const void* data, std::size_t bytes, std::uint32_t previous);

// The same through the eight-table loop alone: the reference the folded path is tested against.
std::uint32_t Crc32Portable(const void* data, std::size_t bytes, std::uint32_t previous);

}  // namespace quiver
