// CRC-32 by eight lookup tables (any CPU) and by carry-less multiplication folding (x86-64 with
// PCLMULQDQ, chosen at run time). The folding follows Intel's white paper "Fast CRC Computation for
// Generic Polynomials Using PCLMULQDQ Instruction" (2009): four 128-bit lanes are folded 64 bytes at
// a time, then into one lane, then reduced to 32 bits by Barrett reduction. Its constants are
// powers of x modulo the CRC polynomial, bit-reflected (k1 = x^(4*128+32) mod P, and so on).
#include "crc32.h"

#include <array>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QUIVER_CLMUL_DISPATCH 1
#include <immintrin.h>
#define QUIVER_CLMUL __attribute__((target("pclmul,sse4.1")))
#endif

namespace quiver {
namespace {

constexpr std::uint32_t kPolynomial = 0xEDB88320u;

// kTables[0] is the classic byte table; kTables[t][b] is the CRC of byte b followed by t zero bytes,
// so eight bytes are folded with eight independent lookups.
using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

Tables MakeTables() {
  Tables tables{};
  for (std::uint32_t byte = 0; byte < 256; byte++) {
    std::uint32_t crc = byte;
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kPolynomial : 0u);
    tables[0][byte] = crc;
  }
  for (std::size_t byte = 0; byte < 256; byte++) {
    for (std::size_t table = 1; table < 8; table++) {
      const std::uint32_t before = tables[table - 1][byte];
      tables[table][byte] = (before >> 8) ^ tables[0][before & 0xFFu];
    }
  }
  return tables;
}

const Tables& TablesOnce() {
  static const Tables tables = MakeTables();
  return tables;
}

// The table loop on the inverted register (zlib's convention: the caller inverts before and after).
std::uint32_t UpdateTables(std::uint32_t crc, const unsigned char* data, std::size_t bytes) {
  const Tables& t = TablesOnce();
  while (bytes >= 8) {
    std::uint32_t low;
    std::uint32_t high;
    std::memcpy(&low, data, 4);
    std::memcpy(&high, data + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    low = __builtin_bswap32(low);
    high = __builtin_bswap32(high);
#endif
    low ^= crc;
    crc = t[7][low & 0xFFu] ^ t[6][(low >> 8) & 0xFFu] ^ t[5][(low >> 16) & 0xFFu] ^ t[4][low >> 24] ^
          t[3][high & 0xFFu] ^ t[2][(high >> 8) & 0xFFu] ^ t[1][(high >> 16) & 0xFFu] ^ t[0][high >> 24];
    data += 8;
    bytes -= 8;
  }
  while (bytes-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *data++) & 0xFFu];
  return crc;
}

#ifdef QUIVER_CLMUL_DISPATCH
bool HasClmul() {
  static const bool supported = [] {
    const char* portable = std::getenv("QUIVERDB_PORTABLE_KERNELS");
    if (portable != nullptr && portable[0] == '1') return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  }();
  return supported;
}

QUIVER_CLMUL inline __m128i Load16(const unsigned char* at) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
}

// lane × constants (its low and its high half each by the matching half), plus the next 16 bytes.
QUIVER_CLMUL inline __m128i Fold(__m128i lane, __m128i constants, __m128i next) {
  const __m128i low = _mm_clmulepi64_si128(lane, constants, 0x00);
  const __m128i high = _mm_clmulepi64_si128(lane, constants, 0x11);
  return _mm_xor_si128(_mm_xor_si128(low, high), next);
}

// Folds `bytes` bytes (at least 64, a multiple of 16) into the inverted register `crc`.
QUIVER_CLMUL std::uint32_t UpdateFolded(std::uint32_t crc, const unsigned char* data, std::size_t bytes) {
  // Fold by four lanes (x^(4*128±32)), fold by one lane (x^(128±32)), 64 → 32 bits (x^64), and
  // the Barrett pair: the polynomial P' (33 bits) and mu = floor(x^64 / P), both reflected.
  const __m128i fold4 = _mm_set_epi64x(0x01C6E41596LL, 0x0154442BD4LL);
  const __m128i fold1 = _mm_set_epi64x(0x00CCAA009ELL, 0x01751997D0LL);
  const __m128i fold64 = _mm_set_epi64x(0, 0x0163CD6124LL);
  const __m128i barrett = _mm_set_epi64x(0x01F7011641LL, 0x01DB710641LL);
  const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);

  __m128i lane0 = _mm_xor_si128(Load16(data), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i lane1 = Load16(data + 16);
  __m128i lane2 = Load16(data + 32);
  __m128i lane3 = Load16(data + 48);
  data += 64;
  bytes -= 64;
  while (bytes >= 64) {
    lane0 = Fold(lane0, fold4, Load16(data));
    lane1 = Fold(lane1, fold4, Load16(data + 16));
    lane2 = Fold(lane2, fold4, Load16(data + 32));
    lane3 = Fold(lane3, fold4, Load16(data + 48));
    data += 64;
    bytes -= 64;
  }
  __m128i lane = Fold(lane0, fold1, lane1);
  lane = Fold(lane, fold1, lane2);
  lane = Fold(lane, fold1, lane3);
  while (bytes >= 16) {
    lane = Fold(lane, fold1, Load16(data));
    data += 16;
    bytes -= 16;
  }
  // 128 → 64 bits: the low half times k4 folded onto the high half.
  __m128i folded = _mm_xor_si128(_mm_srli_si128(lane, 8), _mm_clmulepi64_si128(lane, fold1, 0x10));
  // 64 → 32 bits.
  folded = _mm_xor_si128(_mm_srli_si128(folded, 4),
                         _mm_clmulepi64_si128(_mm_and_si128(folded, low32), fold64, 0x00));
  // Barrett reduction to the 32-bit remainder.
  __m128i quotient = _mm_clmulepi64_si128(_mm_and_si128(folded, low32), barrett, 0x10);
  quotient = _mm_clmulepi64_si128(_mm_and_si128(quotient, low32), barrett, 0x00);
  return static_cast<std::uint32_t>(_mm_extract_epi32(_mm_xor_si128(folded, quotient), 1));
}
#endif

}  // namespace

std::uint32_t Crc32Portable(const void* data, std::size_t bytes, std::uint32_t previous) {
  return ~UpdateTables(~previous, static_cast<const unsigned char*>(data), bytes);
}

std::uint32_t Crc32(const void* data, std::size_t bytes, std::uint32_t previous) {
  const auto* at = static_cast<const unsigned char*>(data);
  std::uint32_t crc = ~previous;
#ifdef QUIVER_CLMUL_DISPATCH
  if (bytes >= 64 && HasClmul()) {
    const std::size_t folded = bytes & ~std::size_t{15};
    crc = UpdateFolded(crc, at, folded);
    at += folded;
    bytes -= folded;
  }
#endif
  return ~UpdateTables(crc, at, bytes);
}

}  // namespace quiver
