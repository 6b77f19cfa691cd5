//! A cache prefetch hint, for callers that know which state they will touch next.

/// Asks the CPU to start loading the cache line holding `value`. A pure performance hint: it
/// never faults, changes no result and does nothing on targets without the instruction.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: PREFETCHT0 only hints the cache; it never faults and changes no state the
        // program can observe. The pointer comes from a live reference, and SSE (the
        // instruction's target feature) is part of the x86_64 baseline.
        #[allow(unsafe_code)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
