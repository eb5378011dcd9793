/*
 * mono-sanitizers.h: what the build's sanitizers are, asked one way for every compiler (gcc
 * defines __SANITIZE_ADDRESS__, clang answers __has_feature), and what code does about them.
 *
 *   MONO_HAVE_ASAN, MONO_HAVE_TSAN   1 when built with that sanitizer, else 0
 *   MONO_POISON / MONO_UNPOISON      mark memory unusable / usable for ASan (no-ops without it)
 *   MONO_NO_ASAN                     a function attribute: ASan does not check its accesses
 */
#ifndef MONO_UTILS_MONO_SANITIZERS_H
#define MONO_UTILS_MONO_SANITIZERS_H

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MONO_HAVE_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define MONO_HAVE_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(MONO_HAVE_ASAN)
#define MONO_HAVE_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(MONO_HAVE_TSAN)
#define MONO_HAVE_TSAN 1
#endif
#ifndef MONO_HAVE_ASAN
#define MONO_HAVE_ASAN 0
#endif
#ifndef MONO_HAVE_TSAN
#define MONO_HAVE_TSAN 0
#endif

#if MONO_HAVE_ASAN
#include <sanitizer/asan_interface.h>
#define MONO_POISON(addr, size) ASAN_POISON_MEMORY_REGION ((addr), (size))
#define MONO_UNPOISON(addr, size) ASAN_UNPOISON_MEMORY_REGION ((addr), (size))
#define MONO_NO_ASAN __attribute__ ((no_sanitize_address))
#else
#define MONO_POISON(addr, size) ((void)(addr), (void)(size))
#define MONO_UNPOISON(addr, size) ((void)(addr), (void)(size))
#define MONO_NO_ASAN
#endif

#endif
