// Compiler portability for the addon's sources (GCC, Clang and MSVC, as binding.gyp builds them).
#pragma once

// Keeps a function out of line. The searches and scans use it for their thread-local scratch: a
// function returning a reference to a thread_local, called once per search, lets the hot loops hold
// a plain reference (GCC otherwise re-computes a thread-local's address, a __tls_get_addr call in a
// shared object, at each use).
#if defined(_MSC_VER)
#define QUIVER_NOINLINE __declspec(noinline)
#elif defined(__GNUC__) || defined(__clang__)
#define QUIVER_NOINLINE __attribute__((noinline))
#else
#define QUIVER_NOINLINE
#endif
