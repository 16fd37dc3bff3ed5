// Micro-benchmark: reading an int8 snapshot's float-vector file (src/index/vector-file.ts) the two
// ways the rescoring could: one pread per slot (what native/vector-slots.cc does) or a copy out of a
// memory mapping of the whole file. Times QUERIES rounds of PER_QUERY random slots each way, twice
// (the page cache and the mapping warm after the first round), and prints the process's resident
// memory after each: a mapping's touched pages count in it, a pread's do not. Then the mapping with
// a resident budget: its pages are dropped (madvise MADV_DONTNEED over the whole mapping) whenever
// the reads since the last drop have touched BUDGET MiB, which bounds RSS at the price of the drop
// and of faulting the pages in again.
// Build and run by hand (Linux), on a file written by a snapshot of an int8 collection:
//   cc -O2 -o /tmp/vector-file-reads bench/micro/vector-file-reads.c
//   /tmp/vector-file-reads DB/COLLECTION/hnsw.SEQ.f32 [QUERIES=20000] [PER_QUERY=20] [BUDGET=8]
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { HEADER_BYTES = 64 };

static double now_us(void) {
  struct timespec at;
  clock_gettime(CLOCK_MONOTONIC, &at);
  return at.tv_sec * 1e6 + at.tv_nsec / 1e3;
}

// VmRSS and RssFile of this process in MiB, from /proc/self/status.
static void print_rss(const char* when) {
  FILE* status = fopen("/proc/self/status", "r");
  char line[256];
  long rss = -1, file = -1;
  while (status != NULL && fgets(line, sizeof line, status) != NULL) {
    if (strncmp(line, "VmRSS:", 6) == 0) rss = atol(line + 6);
    if (strncmp(line, "RssFile:", 8) == 0) file = atol(line + 8);
  }
  if (status != NULL) fclose(status);
  printf("  %-28s RSS %.1f MiB (of it file pages %.1f MiB)\n", when, rss / 1024.0, file / 1024.0);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE.f32 [QUERIES] [PER_QUERY] [BUDGET_MIB]\n", argv[0]);
    return 2;
  }
  const long queries = argc > 2 ? atol(argv[2]) : 20000;
  const long per_query = argc > 3 ? atol(argv[3]) : 20;
  const long budget_mib = argc > 4 ? atol(argv[4]) : 8;
  const int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  struct stat info;
  fstat(fd, &info);
  unsigned char header[HEADER_BYTES];
  if (pread(fd, header, HEADER_BYTES, 0) != HEADER_BYTES || memcmp(header, "QUIVVECF", 8) != 0) {
    fprintf(stderr, "%s is not a float-vector file\n", argv[1]);
    return 1;
  }
  uint32_t dim, slots;
  memcpy(&dim, header + 16, 4);
  memcpy(&slots, header + 24, 4);
  const size_t slot_bytes = 8 + 4 * (size_t)dim;
  char* buffer = malloc(slot_bytes * per_query);
  uint32_t* labels = malloc(sizeof(uint32_t) * queries * per_query);
  srand(7);
  for (long i = 0; i < queries * per_query; i++) labels[i] = (uint32_t)(rand() % slots);
  printf("%s: %u slots of dim %u, %ld queries of %ld random slots\n", argv[1], slots, dim, queries, per_query);
  print_rss("before");
  volatile unsigned long sink = 0;
  for (int round = 1; round <= 2; round++) {
    const double start = now_us();
    for (long q = 0; q < queries; q++) {
      for (long i = 0; i < per_query; i++) {
        const uint32_t label = labels[q * per_query + i];
        if (pread(fd, buffer + i * slot_bytes, slot_bytes, HEADER_BYTES + (off_t)label * slot_bytes) != (ssize_t)slot_bytes)
          return 1;
      }
      sink += (unsigned char)buffer[5];
    }
    printf("pread, round %d: %.2f us a query\n", round, (now_us() - start) / queries);
    print_rss("after");
  }
  const char* mapped = mmap(NULL, info.st_size, PROT_READ, MAP_SHARED, fd, 0);
  if (mapped == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  madvise((void*)mapped, info.st_size, MADV_RANDOM);
  for (int round = 1; round <= 2; round++) {
    const double start = now_us();
    for (long q = 0; q < queries; q++) {
      for (long i = 0; i < per_query; i++) {
        const uint32_t label = labels[q * per_query + i];
        memcpy(buffer + i * slot_bytes, mapped + HEADER_BYTES + (size_t)label * slot_bytes, slot_bytes);
      }
      sink += (unsigned char)buffer[5];
    }
    printf("mmap, round %d: %.2f us a query\n", round, (now_us() - start) / queries);
    print_rss("after");
  }
  // Each slot read touches at most two pages of 4 KiB (slots are not page-aligned).
  const long budget_pages = budget_mib * 256;
  madvise((void*)mapped, info.st_size, MADV_DONTNEED);
  for (int round = 1; round <= 2; round++) {
    long touched = 0, drops = 0;
    const double start = now_us();
    for (long q = 0; q < queries; q++) {
      for (long i = 0; i < per_query; i++) {
        const uint32_t label = labels[q * per_query + i];
        memcpy(buffer + i * slot_bytes, mapped + HEADER_BYTES + (size_t)label * slot_bytes, slot_bytes);
        touched += 1 + (long)(slot_bytes / 4096) + 1;
      }
      sink += (unsigned char)buffer[5];
      if (touched > budget_pages) {
        madvise((void*)mapped, info.st_size, MADV_DONTNEED);
        touched = 0;
        drops++;
      }
    }
    printf("mmap within %ld MiB, round %d: %.2f us a query (%ld drops)\n", budget_mib, round,
           (now_us() - start) / queries, drops);
    print_rss("after");
  }
  return sink == 0xffffffff;
}
