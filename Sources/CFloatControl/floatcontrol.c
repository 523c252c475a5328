#include "floatcontrol.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define NN_FTZ_DAZ 0x8040u /* bit 15: flush to zero; bit 6: denormals are zero */

void nn_flush_denormals(void) {
    unsigned int csr = _mm_getcsr();
    if ((csr & NN_FTZ_DAZ) != NN_FTZ_DAZ) _mm_setcsr(csr | NN_FTZ_DAZ);
}

int nn_flushes_denormals(void) { return (_mm_getcsr() & NN_FTZ_DAZ) == NN_FTZ_DAZ; }

#elif defined(__aarch64__)
#include <stdint.h>

void nn_flush_denormals(void) {
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= (1ull << 24);
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}

int nn_flushes_denormals(void) {
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (fpcr >> 24) & 1;
}

#else
void nn_flush_denormals(void) {}
int nn_flushes_denormals(void) { return 0; }
#endif
