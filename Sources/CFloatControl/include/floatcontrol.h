#ifndef NN_FLOATCONTROL_H
#define NN_FLOATCONTROL_H

/* Denormal (subnormal) floats cost 50-100 cycles each on x86 when an operation produces or reads
   one: a recurrent state that decays towards zero slows a whole pass by 10-20x. These set the
   calling thread's floating-point control to flush them to zero (x86: MXCSR FTZ and DAZ; ARM64:
   FPCR.FZ). The setting is per thread, so every thread that computes calls it. */
void nn_flush_denormals(void);

/* 1 when the calling thread flushes denormals to zero. */
int nn_flushes_denormals(void);

/* A spin-wait hint (x86 `pause`, ARM `yield`): a thread polling for work yields the core's
   pipeline to its sibling and saves power. */
static inline void nn_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

#endif
