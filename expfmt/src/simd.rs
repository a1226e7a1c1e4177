//! 16-byte class scans with SSE2 (part of the x86-64 baseline, so no runtime detection is
//! needed): a bitmask of the bytes that end a name, or a quoted value, in one step. The only
//! module with `unsafe` (the intrinsics); elsewhere, and on other targets, the eight-byte SWAR
//! scans of `scan.rs` do the same work, and property tests there compare the two on every
//! input they generate.
#![allow(unsafe_code)]

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use std::arch::x86_64::{
    __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_loadu_si128,
    _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
};

/// Whether this build has the 16-byte scans (else the callers use their SWAR loop alone).
pub(crate) const ENABLED: bool = cfg!(all(target_arch = "x86_64", target_feature = "sse2"));

/// Bit `k` set when `chunk[k]` is not a name byte (`[a-zA-Z0-9_]`, and `:` when `colon`).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn non_name_mask(chunk: &[u8; 16], colon: bool) -> u32 {
    // SAFETY: SSE2 is enabled for this build (the cfg above); `_mm_loadu_si128` reads the 16
    // bytes of `chunk` with no alignment requirement; the other intrinsics only compute on
    // registers.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        // signed compares: bytes >= 0x80 are negative, so never in a range below 0x80
        let between = |x: __m128i, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(x, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(x, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let letter = between(lower, b'a', b'z');
        let digit = between(v, b'0', if colon { b':' } else { b'9' });
        let underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
        let name = _mm_or_si128(_mm_or_si128(letter, digit), underscore);
        !(_mm_movemask_epi8(name) as u32) & 0xffff
    }
}

/// Bit `k` set when `chunk[k]` is `"`, `\` or a line feed.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn quote_end_mask(chunk: &[u8; 16]) -> u32 {
    // SAFETY: as in `non_name_mask`: SSE2 is enabled, the load reads exactly `chunk`.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        let hit = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        let any = _mm_or_si128(_mm_or_si128(hit(b'"'), hit(b'\\')), hit(b'\n'));
        _mm_movemask_epi8(any) as u32
    }
}

/// Bit `k` set when `chunk[k]` is a backslash or a line feed (the end of plain HELP text).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn help_end_mask(chunk: &[u8; 16]) -> u32 {
    // SAFETY: as in `non_name_mask`: SSE2 is enabled, the load reads exactly `chunk`.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        let hit = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        _mm_movemask_epi8(_mm_or_si128(hit(b'\\'), hit(b'\n'))) as u32
    }
}

/// Whether the 16 bytes of `a` and `b` are equal.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn same_16(a: &[u8; 16], b: &[u8; 16]) -> bool {
    // SAFETY: as in `non_name_mask`: SSE2 is enabled, the loads read exactly `a` and `b`.
    unsafe {
        let x = _mm_loadu_si128(a.as_ptr().cast::<__m128i>());
        let y = _mm_loadu_si128(b.as_ptr().cast::<__m128i>());
        _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) == 0xffff
    }
}

/// [`non_name_mask`] without `:` and [`quote_end_mask`] of one chunk, from one load: the
/// name and the value of a short label.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn label_masks(chunk: &[u8; 16]) -> (u32, u32) {
    (non_name_mask(chunk, false), quote_end_mask(chunk))
}

/// Stand-ins where SSE2 is not there: never called (`ENABLED` is false).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub(crate) fn non_name_mask(_: &[u8; 16], _: bool) -> u32 {
    unreachable!("only called when ENABLED")
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub(crate) fn quote_end_mask(_: &[u8; 16]) -> u32 {
    unreachable!("only called when ENABLED")
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub(crate) fn help_end_mask(_: &[u8; 16]) -> u32 {
    unreachable!("only called when ENABLED")
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub(crate) fn same_16(_: &[u8; 16], _: &[u8; 16]) -> bool {
    unreachable!("only called when ENABLED")
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub(crate) fn label_masks(_: &[u8; 16]) -> (u32, u32) {
    unreachable!("only called when ENABLED")
}
