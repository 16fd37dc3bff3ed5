// Positional reads of float-vector slots (layout: vector-slots.h): pread on POSIX, ReadFile with an
// offset on Windows, neither of which moves a file position, so readers on several threads or
// processes never disturb each other.
#include "vector-slots.h"

#include <cerrno>
#include <cstring>
#include <vector>

#include "crc32.h"

#ifdef _WIN32
#include <uv.h>
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace quiver {
namespace {

// Reads `bytes` bytes at `offset` into `into`; false on an error or a short read (the file ends).
bool ReadAt(int fd, std::uint64_t offset, std::size_t bytes, char* into) {
  std::size_t done = 0;
  while (done < bytes) {
#ifdef _WIN32
    const HANDLE handle = reinterpret_cast<HANDLE>(uv_get_osfhandle(fd));
    if (handle == INVALID_HANDLE_VALUE) return false;
    OVERLAPPED at{};
    const std::uint64_t position = offset + done;
    at.Offset = static_cast<DWORD>(position & 0xffffffffu);
    at.OffsetHigh = static_cast<DWORD>(position >> 32);
    DWORD read = 0;
    if (!ReadFile(handle, into + done, static_cast<DWORD>(bytes - done), &read, &at) || read == 0) return false;
#else
    const ssize_t read = pread(fd, into + done, bytes - done, static_cast<off_t>(offset + done));
    if (read < 0 && errno == EINTR) continue;
    if (read <= 0) return false;
#endif
    done += static_cast<std::size_t>(read);
  }
  return true;
}

}  // namespace

std::size_t ReadVectorSlots(int fd, std::uint64_t header_bytes, std::size_t dim, const std::uint32_t* labels,
                            std::size_t count, float* out, std::uint8_t* ok) {
  const std::size_t payload = sizeof(std::uint32_t) + dim * sizeof(float);
  const std::size_t slot_bytes = payload + sizeof(std::uint32_t);
  thread_local std::vector<char> slot;
  slot.resize(slot_bytes);
  std::size_t read = 0;
  for (std::size_t i = 0; i < count; i++) {
    ok[i] = 0;
    const std::uint32_t label = labels[i];
    if (!ReadAt(fd, header_bytes + static_cast<std::uint64_t>(label) * slot_bytes, slot_bytes, slot.data())) continue;
    std::uint32_t stored_label;
    std::uint32_t stored_crc;
    std::memcpy(&stored_label, slot.data(), sizeof stored_label);
    std::memcpy(&stored_crc, slot.data() + payload, sizeof stored_crc);
    if (stored_label != label || Crc32(slot.data(), payload, 0) != stored_crc) continue;
    std::memcpy(out + i * dim, slot.data() + sizeof(std::uint32_t), dim * sizeof(float));
    ok[i] = 1;
    read++;
  }
  return read;
}

}  // namespace quiver
