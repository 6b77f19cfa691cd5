//! `libm::exp` over a slice, bit for bit, in a loop the compiler can vectorise.
//!
//! Catalog sizes are lognormal: one `exp` per clip, most of the set-up time of a large catalog.
//! `libm::exp` (FreeBSD's `e_exp.c`) branches on the size of its argument. For
//! `1.5 ln 2 <= |x| < 708.39` (every size from a few bytes to 10^300) it takes one branch-free
//! path: reduce `x` by `k ln 2`, a rational approximation, and a scale by `2^k` that is a plain
//! multiplication. This module runs that path over a whole slice with the same operations in the
//! same order (Rust never fuses a multiply and an add on its own, so each rounds as in `libm`),
//! then hands every argument outside that range to `libm::exp` itself. The results are the same
//! bits as `libm::exp`'s: the tests compare them on random bit patterns, the edges of the range
//! and the halfway points of the reduction, and would catch a `libm` release that changed its
//! algorithm.

/// `libm`'s constants (`exp.rs`, from FreeBSD), by their bits as `libm` lists them.
const LN2HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const INVLN2: f64 = f64::from_bits(0x3ff7_1547_652b_82fe);
const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);

/// High word of `|x|` from which `libm` reduces by `k = round(x / ln 2)` (`|x| >= 1.5 ln 2`).
const HX_REDUCE_BY_K: u32 = 0x3ff0_a2b2;
/// High word of `|x|` from which `libm` checks for overflow and underflow (`|x| >= 708.39`).
const HX_SPECIAL: u32 = 0x4086_232b;

/// Whether `x` takes `libm::exp`'s common path: `1.5 ln 2 <= |x| < 708.39` (so not NaN and
/// not infinite, and `2^k` is a normal double).
#[inline(always)]
fn on_common_path(x: f64) -> bool {
    let hx = ((x.to_bits() >> 32) as u32) & 0x7fff_ffff;
    (HX_REDUCE_BY_K..HX_SPECIAL).contains(&hx)
}

/// `libm::exp(x)` for `x` on its common path.
#[inline(always)]
fn common_path(x: f64) -> f64 {
    // `libm` adds 0.5 with the sign of `x`, then truncates.
    let k = (INVLN2 * x + 0.5f64.copysign(x)) as i32;
    let hi = x - f64::from(k) * LN2HI;
    let lo = f64::from(k) * LN2LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // `scalbn(y, k)` for |k| <= 1022: a multiplication by the normal double 2^k.
    y * f64::from_bits(((1023 + k) as u64) << 52)
}

/// Replaces every `x` in `xs` with `libm::exp(x)`, bit for bit.
pub(crate) fn exp_in_place(xs: &mut [f64]) {
    // A fold rather than `all`, so that the check vectorises too.
    if xs.iter().fold(true, |all, &x| all & on_common_path(x)) {
        for x in xs.iter_mut() {
            *x = common_path(*x);
        }
    } else {
        // Rare (a size below 3 bytes or above 10^307 in the slice): `libm` for each.
        for x in xs.iter_mut() {
            *x = libm::exp(*x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{splitmix64, Purpose, Stream};
    use proptest::prelude::*;

    /// Checks `exp_in_place` against `libm::exp` bit for bit, on the slice as a whole and on
    /// each value alone (so that both branches are checked whatever the mix).
    fn same_as_libm(xs: &[f64]) -> Result<(), TestCaseError> {
        let mut all = xs.to_vec();
        exp_in_place(&mut all);
        for (&x, &got) in xs.iter().zip(&all) {
            let mut one = [x];
            exp_in_place(&mut one);
            let want = libm::exp(x);
            prop_assert_eq!(got.to_bits(), want.to_bits(), "exp({:e}) in a slice: {:e}, libm {:e}", x, got, want);
            prop_assert_eq!(one[0].to_bits(), want.to_bits(), "exp({:e}) alone: {:e}, libm {:e}", x, one[0], want);
        }
        Ok(())
    }

    /// Doubles `n` units in the last place either side of `x`.
    fn around(x: f64, n: i64) -> impl Iterator<Item = f64> {
        (-n..=n).map(move |d| f64::from_bits(x.to_bits().wrapping_add_signed(d)))
    }

    #[test]
    fn lognormal_sizes_are_libm_bit_for_bit() {
        // The arguments catalog sizes give: mu + sigma * z for 1 kB to 10 GB means.
        let mut rng = Stream::new(7, Purpose::Catalog);
        let xs: Vec<f64> = (0..200_000).map(|_| 5.0 + 20.0 * rng.unit() + 3.0 * rng.normal()).collect();
        same_as_libm(&xs).unwrap();
    }

    #[test]
    fn path_edges_and_reduction_halfway_points_are_libm_bit_for_bit() {
        let mut xs = Vec::new();
        for edge in [HX_REDUCE_BY_K, HX_SPECIAL] {
            let at = f64::from_bits(u64::from(edge) << 32);
            xs.extend(around(at, 64));
            xs.extend(around(-at, 64));
        }
        // Where `k` changes: x = (k + 1/2) ln 2.
        for k in -1024..1024 {
            xs.extend(around((f64::from(k) + 0.5) * core::f64::consts::LN_2, 4));
        }
        xs.extend([0.0, -0.0, 1.0, -1.0, 709.78, 709.79, -745.13, -745.14, f64::MAX, f64::MIN]);
        xs.extend([f64::INFINITY, f64::NEG_INFINITY, f64::NAN, f64::MIN_POSITIVE, 1e-300, -1e-300]);
        same_as_libm(&xs).unwrap();
    }

    #[test]
    fn uniform_arguments_over_the_whole_range_are_libm_bit_for_bit() {
        let xs: Vec<f64> =
            (0..500_000u64).map(|i| (splitmix64(i) >> 11) as f64 / (1u64 << 53) as f64 * 1500.0 - 750.0).collect();
        same_as_libm(&xs).unwrap();
    }

    proptest! {
        #[test]
        fn any_bits_are_libm_bit_for_bit(bits in prop::collection::vec(any::<u64>(), 1..64)) {
            same_as_libm(&bits.into_iter().map(f64::from_bits).collect::<Vec<_>>())?;
        }

        #[test]
        fn common_path_arguments_are_libm_bit_for_bit(xs in prop::collection::vec(1.0f64..708.0, 1..64), signs in any::<u64>()) {
            let xs: Vec<f64> = xs.iter().enumerate().map(|(i, &x)| if signs >> (i % 64) & 1 == 1 { -x } else { x }).collect();
            same_as_libm(&xs)?;
        }
    }
}
