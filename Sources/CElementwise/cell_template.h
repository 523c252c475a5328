/* Included once per kernel by elementwise.c with NN_LANES (lanes per vector), NN_SUFFIX (name
   suffix), NN_TARGET (a function attribute) and NN_FUSED (1: fused multiply-adds). Every helper is
   always inlined into the target-attributed entry points, so that it is compiled for their ISA. */

#define NN_CAT2(a, b) a##_##b
#define NN_CAT(a, b) NN_CAT2(a, b)
#define NN_NAME(name) NN_CAT(name, NN_SUFFIX)
#define NN_INLINE static inline __attribute__((always_inline)) NN_TARGET

/* `body` over the units of a row: whole vectors (n = NN_LANES, a constant the compiler folds), then
   the last partial one (n < NN_LANES), with j the first unit of each. */
#define NN_EACH_VECTOR(units, ...)                                                          \
    do {                                                                                    \
        int whole_ = (units) - (units) % NN_LANES;                                          \
        for (int j = 0; j < whole_; j += NN_LANES) { const int n = NN_LANES; __VA_ARGS__; } \
        if (whole_ < (units)) { const int j = whole_, n = (units) - whole_; __VA_ARGS__; }  \
    } while (0)

typedef float NN_NAME(vf) __attribute__((vector_size(NN_LANES * 4)));
typedef int NN_NAME(vi) __attribute__((vector_size(NN_LANES * 4)));
#define VF NN_NAME(vf)
#define VI NN_NAME(vi)

NN_INLINE VF NN_NAME(splat)(float x) { return (VF){0} + x; }

NN_INLINE VF NN_NAME(load)(const float *p) {
    VF v;
    memcpy(&v, p, sizeof v);
    return v;
}

NN_INLINE void NN_NAME(store)(float *p, VF v) { memcpy(p, &v, sizeof v); }

/* The first n lanes (the rest zero) / stored: a row's last partial vector. */
NN_INLINE VF NN_NAME(load_part)(const float *p, int n) {
    float lanes[NN_LANES] = {0};
    memcpy(lanes, p, (size_t)n * sizeof(float));
    return NN_NAME(load)(lanes);
}

NN_INLINE void NN_NAME(store_part)(float *p, VF v, int n) {
    float lanes[NN_LANES];
    NN_NAME(store)(lanes, v);
    memcpy(p, lanes, (size_t)n * sizeof(float));
}

NN_INLINE VF NN_NAME(select)(VI mask, VF yes, VF no) { return (VF)((mask & (VI)yes) | (~mask & (VI)no)); }

/* a·b + c: fused where the ISA has it (as Swift's VectorMath does with NN_FMA). */
NN_INLINE VF NN_NAME(muladd)(VF a, VF b, VF c) {
#if NN_FUSED
    return __builtin_elementwise_fma(a, b, c);
#else
    return a * b + c;
#endif
}

/* min/max by compare and select, so that a NaN passes through (as in VectorMath): a clamp that
   turned it into a bound would hide a diverged run. */
NN_INLINE VF NN_NAME(minimum)(VF x, float bound) { return NN_NAME(select)(x > bound, NN_NAME(splat)(bound), x); }
NN_INLINE VF NN_NAME(maximum)(VF x, float bound) { return NN_NAME(select)(x < bound, NN_NAME(splat)(bound), x); }

NN_INLINE VF NN_NAME(exp)(VF x) {
    x = NN_NAME(maximum)(NN_NAME(minimum)(x, 88.3762626647949f), -87.3365447504f);
    const float magic = 12582912.0f;  // 1.5 · 2^23: n = round(x / ln 2) in the low mantissa bits
    VF shifted = NN_NAME(muladd)(x, NN_NAME(splat)(1.44269504088896341f), NN_NAME(splat)(magic));
    VF n = shifted - magic;
    VF r = x - n * 0.693359375f + n * 2.12194440e-4f;
    VF p = NN_NAME(muladd)(r, NN_NAME(splat)(1.9875691500e-4f), NN_NAME(splat)(1.3981999507e-3f));
    p = NN_NAME(muladd)(p, r, NN_NAME(splat)(8.3334519073e-3f));
    p = NN_NAME(muladd)(p, r, NN_NAME(splat)(4.1665795894e-2f));
    p = NN_NAME(muladd)(p, r, NN_NAME(splat)(1.6666665459e-1f));
    p = NN_NAME(muladd)(p, r, NN_NAME(splat)(5.0000001201e-1f));
    p = NN_NAME(muladd)(p, r * r, r + 1);
    VI exponent = ((VI)shifted - 0x4B400000 + 127) << 23;
    return p * (VF)exponent;
}

NN_INLINE VF NN_NAME(tanh)(VF x) {
    const float bound = 7.90531110763549805f;
    VF clamped = NN_NAME(maximum)(NN_NAME(minimum)(x, bound), -bound);
    VF x2 = clamped * clamped;
    VF p = NN_NAME(muladd)(x2, NN_NAME(splat)(-2.76076847742355e-16f), NN_NAME(splat)(2.00018790482477e-13f));
    p = NN_NAME(muladd)(p, x2, NN_NAME(splat)(-8.60467152213735e-11f));
    p = NN_NAME(muladd)(p, x2, NN_NAME(splat)(5.12229709037114e-08f));
    p = NN_NAME(muladd)(p, x2, NN_NAME(splat)(1.48572235717979e-05f));
    p = NN_NAME(muladd)(p, x2, NN_NAME(splat)(6.37261928875436e-04f));
    p = NN_NAME(muladd)(p, x2, NN_NAME(splat)(4.89352455891786e-03f));
    p = p * clamped;
    VF q = NN_NAME(muladd)(x2, NN_NAME(splat)(1.19825839466702e-06f), NN_NAME(splat)(1.18534705686654e-04f));
    q = NN_NAME(muladd)(q, x2, NN_NAME(splat)(2.26843463243900e-03f));
    q = NN_NAME(muladd)(q, x2, NN_NAME(splat)(4.89352518554385e-03f));
    VF magnitude = (VF)((VI)x & 0x7FFFFFFF);
    return NN_NAME(select)(magnitude < 0.0004f, x, p / q);  // tanh x = x to float precision there
}

/* f(x) for the functions of elementwise.h; constant-folded where `function` is a constant. */
NN_INLINE VF NN_NAME(apply)(int function, VF x) {
    switch (function) {
    case NN_FUNCTION_RELU: return NN_NAME(maximum)(x, 0);
    case NN_FUNCTION_SIGMOID: return 1 / (1 + NN_NAME(exp)(-x));
    case NN_FUNCTION_HARD_SIGMOID:
        return NN_NAME(minimum)(NN_NAME(maximum)(NN_NAME(muladd)(x, NN_NAME(splat)(0.2f), NN_NAME(splat)(0.5f)), 0), 1);
    case NN_FUNCTION_TANH: return NN_NAME(tanh)(x);
    default: return x;
    }
}

/* f'(x) from y = f(x). */
NN_INLINE VF NN_NAME(derivative)(int function, VF y) {
    VF zero = NN_NAME(splat)(0);
    switch (function) {
    case NN_FUNCTION_RELU: return NN_NAME(select)(y > 0, NN_NAME(splat)(1), zero);
    case NN_FUNCTION_SIGMOID: return y * (1 - y);
    case NN_FUNCTION_HARD_SIGMOID: return NN_NAME(select)((y > 0) & (y < 1), NN_NAME(splat)(0.2f), zero);
    case NN_FUNCTION_TANH: return 1 - y * y;
    default: return NN_NAME(splat)(1);
    }
}

/* Units j ..< j + n (n ≤ NN_LANES; whole vectors when n == NN_LANES) of one row, forward. */
NN_INLINE void NN_NAME(lstm_forward_lanes)(int gate, int act, int units, int n, float *g, const float *c0, float *c,
                                           float *t, float *h) {
#define NN_LOAD(p) (n == NN_LANES ? NN_NAME(load)(p) : NN_NAME(load_part)(p, n))
#define NN_STORE(p, v) (n == NN_LANES ? NN_NAME(store)(p, v) : NN_NAME(store_part)(p, v, n))
    VF i = NN_NAME(apply)(gate, NN_LOAD(g));
    VF f = NN_NAME(apply)(gate, NN_LOAD(g + units));
    VF candidate = NN_NAME(apply)(act, NN_LOAD(g + 2 * units));
    VF o = NN_NAME(apply)(gate, NN_LOAD(g + 3 * units));
    VF cell = NN_NAME(muladd)(f, NN_LOAD(c0), i * candidate);
    VF activated = NN_NAME(apply)(act, cell);
    NN_STORE(g, i);
    NN_STORE(g + units, f);
    NN_STORE(g + 2 * units, candidate);
    NN_STORE(g + 3 * units, o);
    NN_STORE(c, cell);
    NN_STORE(t, activated);
    NN_STORE(h, o * activated);
}

NN_INLINE void NN_NAME(lstm_backward_lanes)(int gate, int act, int units, int n, float *g, const float *c0,
                                            const float *t, const float *dhp, float *dcp) {
    VF i = NN_LOAD(g), f = NN_LOAD(g + units), candidate = NN_LOAD(g + 2 * units), o = NN_LOAD(g + 3 * units);
    VF activated = NN_LOAD(t), dh = NN_LOAD(dhp);
    VF dc = NN_NAME(muladd)(dh * o, NN_NAME(derivative)(act, activated), NN_LOAD(dcp));
    NN_STORE(g, dc * candidate * NN_NAME(derivative)(gate, i));
    NN_STORE(g + units, dc * NN_LOAD(c0) * NN_NAME(derivative)(gate, f));
    NN_STORE(g + 2 * units, dc * i * NN_NAME(derivative)(act, candidate));
    NN_STORE(g + 3 * units, dh * activated * NN_NAME(derivative)(gate, o));
    NN_STORE(dcp, dc * f);
#undef NN_LOAD
#undef NN_STORE
}

NN_INLINE void NN_NAME(lstm_forward_rows)(int gate, int act, int rows, int units, float *gates, const float *c0,
                                          float *c, float *t, float *h, int stride) {
    for (int row = 0; row < rows; row++) {
        float *g = gates + (size_t)row * 4 * units, *hr = h + (size_t)row * stride;
        size_t at = (size_t)row * units;
        NN_EACH_VECTOR(units, NN_NAME(lstm_forward_lanes)(gate, act, units, n, g + j, c0 + at + j, c + at + j,
                                                          t + at + j, hr + j));
    }
}

NN_INLINE void NN_NAME(lstm_backward_rows)(int gate, int act, int rows, int units, float *gates, const float *c0,
                                           const float *t, const float *dh, float *dc) {
    for (int row = 0; row < rows; row++) {
        float *g = gates + (size_t)row * 4 * units;
        size_t at = (size_t)row * units;
        NN_EACH_VECTOR(units, NN_NAME(lstm_backward_lanes)(gate, act, units, n, g + j, c0 + at + j, t + at + j,
                                                           dh + at + j, dc + at + j));
    }
}

/* One GRU step (reset after), units j ..< j + n of one row: z, r, n and h from the input side's
   pre-activations g and q = h₋₁·U + b′. */
NN_INLINE void NN_NAME(gru_forward_lanes)(int gate, int act, int units, int n, float *g, const float *q,
                                          const float *previous, float *next) {
#define NN_LOAD(p) (n == NN_LANES ? NN_NAME(load)(p) : NN_NAME(load_part)(p, n))
#define NN_STORE(p, v) (n == NN_LANES ? NN_NAME(store)(p, v) : NN_NAME(store_part)(p, v, n))
    VF z = NN_NAME(apply)(gate, NN_LOAD(g) + NN_LOAD(q));
    VF r = NN_NAME(apply)(gate, NN_LOAD(g + units) + NN_LOAD(q + units));
    VF candidate = NN_NAME(apply)(act, NN_NAME(muladd)(r, NN_LOAD(q + 2 * units), NN_LOAD(g + 2 * units)));
    VF h = NN_NAME(muladd)(z, NN_LOAD(previous) - candidate, candidate);
    NN_STORE(g, z);
    NN_STORE(g + units, r);
    NN_STORE(g + 2 * units, candidate);
    NN_STORE(next, h);
}

/* Backward: the gates' pre-activation gradients into g (input side) and q (h₋₁·U + b′), dh ⊙ z into carry. */
NN_INLINE void NN_NAME(gru_backward_lanes)(int gate, int act, int units, int n, float *g, float *q,
                                           const float *previous, const float *dhp, float *carry) {
    VF z = NN_LOAD(g), r = NN_LOAD(g + units), candidate = NN_LOAD(g + 2 * units), d = NN_LOAD(dhp);
    VF dz = d * (NN_LOAD(previous) - candidate) * NN_NAME(derivative)(gate, z);
    VF dn = d * (1 - z) * NN_NAME(derivative)(act, candidate);
    VF dr = dn * NN_LOAD(q + 2 * units) * NN_NAME(derivative)(gate, r);
    NN_STORE(g, dz);
    NN_STORE(g + units, dr);
    NN_STORE(g + 2 * units, dn);
    NN_STORE(q, dz);
    NN_STORE(q + units, dr);
    NN_STORE(q + 2 * units, dn * r);
    NN_STORE(carry, d * z);
#undef NN_LOAD
#undef NN_STORE
}

NN_INLINE void NN_NAME(gru_forward_rows)(int gate, int act, int rows, int units, float *gates, const float *recurrent,
                                         const float *previous, float *next) {
    for (int row = 0; row < rows; row++) {
        float *g = gates + (size_t)row * 3 * units;
        const float *q = recurrent + (size_t)row * 3 * units;
        size_t at = (size_t)row * units;
        NN_EACH_VECTOR(units, NN_NAME(gru_forward_lanes)(gate, act, units, n, g + j, q + j, previous + at + j,
                                                         next + at + j));
    }
}

NN_INLINE void NN_NAME(gru_backward_rows)(int gate, int act, int rows, int units, float *gates, float *recurrent,
                                          const float *previous, const float *dh, float *carry) {
    for (int row = 0; row < rows; row++) {
        float *g = gates + (size_t)row * 3 * units, *q = recurrent + (size_t)row * 3 * units;
        size_t at = (size_t)row * units;
        NN_EACH_VECTOR(units, NN_NAME(gru_backward_lanes)(gate, act, units, n, g + j, q + j, previous + at + j,
                                                          dh + at + j, carry + at + j));
    }
}

/* The entry points: the reference experiment's pairs get loops of their own (the functions
   constant-folded into them); other pairs switch per vector. */
NN_TARGET static void NN_NAME(lstm_forward)(int gate, int act, int rows, int units, float *gates, const float *c0,
                                            float *c, float *t, float *h, int stride) {
    if (gate == NN_FUNCTION_HARD_SIGMOID && act == NN_FUNCTION_TANH)
        NN_NAME(lstm_forward_rows)(NN_FUNCTION_HARD_SIGMOID, NN_FUNCTION_TANH, rows, units, gates, c0, c, t, h, stride);
    else if (gate == NN_FUNCTION_SIGMOID && act == NN_FUNCTION_TANH)
        NN_NAME(lstm_forward_rows)(NN_FUNCTION_SIGMOID, NN_FUNCTION_TANH, rows, units, gates, c0, c, t, h, stride);
    else
        NN_NAME(lstm_forward_rows)(gate, act, rows, units, gates, c0, c, t, h, stride);
}

NN_TARGET static void NN_NAME(lstm_backward)(int gate, int act, int rows, int units, float *gates, const float *c0,
                                             const float *t, const float *dh, float *dc) {
    if (gate == NN_FUNCTION_HARD_SIGMOID && act == NN_FUNCTION_TANH)
        NN_NAME(lstm_backward_rows)(NN_FUNCTION_HARD_SIGMOID, NN_FUNCTION_TANH, rows, units, gates, c0, t, dh, dc);
    else if (gate == NN_FUNCTION_SIGMOID && act == NN_FUNCTION_TANH)
        NN_NAME(lstm_backward_rows)(NN_FUNCTION_SIGMOID, NN_FUNCTION_TANH, rows, units, gates, c0, t, dh, dc);
    else
        NN_NAME(lstm_backward_rows)(gate, act, rows, units, gates, c0, t, dh, dc);
}

NN_TARGET static void NN_NAME(gru_forward)(int gate, int act, int rows, int units, float *gates,
                                           const float *recurrent, const float *previous, float *next) {
    if (gate == NN_FUNCTION_SIGMOID && act == NN_FUNCTION_TANH)
        NN_NAME(gru_forward_rows)(NN_FUNCTION_SIGMOID, NN_FUNCTION_TANH, rows, units, gates, recurrent, previous, next);
    else if (gate == NN_FUNCTION_HARD_SIGMOID && act == NN_FUNCTION_TANH)
        NN_NAME(gru_forward_rows)(NN_FUNCTION_HARD_SIGMOID, NN_FUNCTION_TANH, rows, units, gates, recurrent, previous,
                                  next);
    else
        NN_NAME(gru_forward_rows)(gate, act, rows, units, gates, recurrent, previous, next);
}

NN_TARGET static void NN_NAME(gru_backward)(int gate, int act, int rows, int units, float *gates, float *recurrent,
                                            const float *previous, const float *dh, float *carry) {
    if (gate == NN_FUNCTION_SIGMOID && act == NN_FUNCTION_TANH)
        NN_NAME(gru_backward_rows)(NN_FUNCTION_SIGMOID, NN_FUNCTION_TANH, rows, units, gates, recurrent, previous, dh,
                                   carry);
    else if (gate == NN_FUNCTION_HARD_SIGMOID && act == NN_FUNCTION_TANH)
        NN_NAME(gru_backward_rows)(NN_FUNCTION_HARD_SIGMOID, NN_FUNCTION_TANH, rows, units, gates, recurrent, previous,
                                   dh, carry);
    else
        NN_NAME(gru_backward_rows)(gate, act, rows, units, gates, recurrent, previous, dh, carry);
}

NN_INLINE void NN_NAME(activate_all)(int function, const float *x, float *y, size_t count) {
    size_t i = 0;
    for (; i + NN_LANES <= count; i += NN_LANES) NN_NAME(store)(y + i, NN_NAME(apply)(function, NN_NAME(load)(x + i)));
    if (i < count) {
        int n = (int)(count - i);
        NN_NAME(store_part)(y + i, NN_NAME(apply)(function, NN_NAME(load_part)(x + i, n)), n);
    }
}

NN_TARGET static void NN_NAME(activate)(int function, const float *x, float *y, size_t count) {
    switch (function) {
    case NN_FUNCTION_SIGMOID: NN_NAME(activate_all)(NN_FUNCTION_SIGMOID, x, y, count); break;
    case NN_FUNCTION_TANH: NN_NAME(activate_all)(NN_FUNCTION_TANH, x, y, count); break;
    case NN_FUNCTION_HARD_SIGMOID: NN_NAME(activate_all)(NN_FUNCTION_HARD_SIGMOID, x, y, count); break;
    case NN_FUNCTION_RELU: NN_NAME(activate_all)(NN_FUNCTION_RELU, x, y, count); break;
    default: if (x != y) memmove(y, x, count * sizeof(float));
    }
}

NN_INLINE void NN_NAME(gradient_all)(int function, const float *y, const float *dy, float *dx, size_t count) {
    size_t i = 0;
    for (; i + NN_LANES <= count; i += NN_LANES)
        NN_NAME(store)(dx + i, NN_NAME(load)(dy + i) * NN_NAME(derivative)(function, NN_NAME(load)(y + i)));
    if (i < count) {
        int n = (int)(count - i);
        VF d = NN_NAME(derivative)(function, NN_NAME(load_part)(y + i, n));
        NN_NAME(store_part)(dx + i, NN_NAME(load_part)(dy + i, n) * d, n);
    }
}

NN_TARGET static void NN_NAME(activation_gradient)(int function, const float *y, const float *dy, float *dx,
                                                   size_t count) {
    switch (function) {
    case NN_FUNCTION_SIGMOID: NN_NAME(gradient_all)(NN_FUNCTION_SIGMOID, y, dy, dx, count); break;
    case NN_FUNCTION_TANH: NN_NAME(gradient_all)(NN_FUNCTION_TANH, y, dy, dx, count); break;
    case NN_FUNCTION_HARD_SIGMOID: NN_NAME(gradient_all)(NN_FUNCTION_HARD_SIGMOID, y, dy, dx, count); break;
    case NN_FUNCTION_RELU: NN_NAME(gradient_all)(NN_FUNCTION_RELU, y, dy, dx, count); break;
    default: if (dx != dy) memmove(dx, dy, count * sizeof(float));
    }
}

#undef VF
#undef VI
#undef NN_NAME
#undef NN_INLINE
#undef NN_EACH_VECTOR
