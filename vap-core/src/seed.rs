//! Seeds: one seed split into independent streams (per chunk, per purpose,
//! per bootstrap replicate), so that results do not depend on the thread
//! count or on the order work is done in.
//!
//! ```
//! use vap_core::seed::mix;
//! assert_eq!(mix(7, 1, 2), mix(7, 1, 2));
//! assert_ne!(mix(7, 1, 2), mix(7, 2, 1));
//! ```

/// A well-mixed 64-bit seed of `(seed, a, b)` (SplitMix64's finaliser).
pub fn mix(seed: u64, a: u64, b: u64) -> u64 {
    // SplitMix64 over (seed, a, b): independent streams per chunk and purpose.
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
