// Reads rows of an int8 graph's float-vector file (src/index/vector-file.ts): one positional read per
// slot of an open file, each slot's label and CRC-32 checked before its floats are handed out. The
// native twin of readVectorSlots in src/index/vector-file.ts. Knows nothing of Node-API.
//
// A slot is | uint32 label | dim float32 | uint32 CRC-32 of the label and the floats |, little-endian,
// slot L at byte header_bytes + L · (8 + 4·dim).
#pragma once

#include <cstddef>
#include <cstdint>

namespace quiver {

// Reads the slots of `count` labels from the file behind `fd` (an OS file descriptor, or on Windows
// a C runtime descriptor of Node's libuv) into `out` (count × dim floats, row i for labels[i]).
// ok[i] becomes 1 when slot labels[i] was read whole, names labels[i] and passes its CRC-32, else 0
// (its row is then left as it was): a short read, a read error, another label or a bad checksum.
// Returns the number of rows read.
std::size_t ReadVectorSlots(int fd, std::uint64_t header_bytes, std::size_t dim, const std::uint32_t* labels,
                            std::size_t count, float* out, std::uint8_t* ok);

}  // namespace quiver
