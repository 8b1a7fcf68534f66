//! The output head's matrix kernel: AVX-512 VNNI over Q8_0 weights repacked
//! so that the 16 lanes of a register are 16 vocabulary rows.
//!
//! Each logit is computed in one fixed order whatever the number of rows:
//! per 32-element block an exact integer dot product, then one float
//! multiply-add per block in block order. Rows of the batch never share an
//! accumulator, so a row's logits are the same alone or beside seven others.

#[cfg(output_head_kernel)]
mod imp {
    use std::arch::x86_64::*;

    /// Bytes of quants per (group of 16 rows, block of 32 columns): eight
    /// 64-byte steps; step `s` holds, for lane `j`, bytes `4s..4s+4` of the
    /// block of row `16g + j`, as unsigned (`q + 128`).
    pub const STEP_BYTES: usize = 64;
    pub const BLOCK_BYTES: usize = 8 * STEP_BYTES;

    /// Activations quantized like ggml's Q8_0 (per block: `d = amax / 127`
    /// rounded to f16, `q = round(x / d)`), plus the correction for the
    /// unsigned weights: `-128 * sum(q)` per block.
    pub struct Quantized {
        pub q: Vec<i8>,
        pub d: Vec<f32>,
        pub corr: Vec<i32>,
    }

    pub fn quantize(x: &[f32], rows: usize, n_embd: usize) -> Quantized {
        let nb = n_embd / 32;
        let mut out = Quantized {
            q: vec![0; rows * n_embd],
            d: vec![0.0; rows * nb],
            corr: vec![0; rows * nb],
        };
        for r in 0..rows {
            for b in 0..nb {
                let block = &x[r * n_embd + b * 32..][..32];
                let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
                let d = amax / 127.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                let mut sum = 0i32;
                for (k, v) in block.iter().enumerate() {
                    let q = (v * id).round_ties_even() as i32;
                    out.q[r * n_embd + b * 32 + k] = q as i8;
                    sum += q;
                }
                // SAFETY: this module is only compiled with F16C enabled.
                out.d[r * nb + b] = unsafe { round_to_f16(d) };
                out.corr[r * nb + b] = -128 * sum;
            }
        }
        out
    }

    #[target_feature(enable = "f16c")]
    unsafe fn round_to_f16(x: f32) -> f32 {
        let h = _mm_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm_set1_ps(x));
        _mm_cvtss_f32(_mm_cvtph_ps(h))
    }

    /// Logits of `rows` quantized rows for the vocabulary groups `g0..g1`,
    /// written to `out[r * ld + v]`; lanes past `n_vocab` are not written.
    ///
    /// # Safety
    /// `quants` holds `groups * nb` blocks, `scales` `groups * nb * 16`
    /// halves, `out` `rows * ld` floats, `act` `rows` rows of `nb` blocks.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,f16c")]
    pub unsafe fn groups(
        quants: *const u8,
        scales: *const u16,
        nb: usize,
        act: &Quantized,
        rows: usize,
        g0: usize,
        g1: usize,
        n_vocab: usize,
        out: *mut f32,
        ld: usize,
    ) {
        let n_embd = nb * 32;
        let mut r0 = 0;
        while r0 < rows {
            // Eight rows' accumulators stay in registers beside the eight
            // weight steps of a block.
            let rn = (rows - r0).min(8);
            for g in g0..g1 {
                let mut acc = [_mm512_setzero_ps(); 8];
                for b in 0..nb {
                    let base = quants.add((g * nb + b) * BLOCK_BYTES);
                    let w: [__m512i; 8] = std::array::from_fn(|s| {
                        _mm512_loadu_si512(base.add(s * STEP_BYTES) as *const __m512i)
                    });
                    let dw = _mm512_cvtph_ps(_mm256_loadu_si256(
                        scales.add((g * nb + b) * 16) as *const __m256i
                    ));
                    for (r, acc) in acc.iter_mut().enumerate().take(rn) {
                        let row = r0 + r;
                        let x = act.q.as_ptr().add(row * n_embd + b * 32) as *const i32;
                        // Two integer chains (even and odd steps) for latency;
                        // integer sums are exact, so their split is no order.
                        let mut chains = [
                            _mm512_set1_epi32(*act.corr.get_unchecked(row * nb + b)),
                            _mm512_setzero_si512(),
                        ];
                        for (s, w) in w.iter().enumerate() {
                            let xs = _mm512_set1_epi32(x.add(s).read_unaligned());
                            chains[s % 2] = _mm512_dpbusd_epi32(chains[s % 2], *w, xs);
                        }
                        let (i0, i1) = (chains[0], chains[1]);
                        let dot = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(i0, i1)), dw);
                        *acc = _mm512_fmadd_ps(
                            dot,
                            _mm512_set1_ps(*act.d.get_unchecked(row * nb + b)),
                            *acc,
                        );
                    }
                }
                let valid = n_vocab.saturating_sub(g * 16).min(16);
                let mask: __mmask16 = if valid == 16 {
                    0xffff
                } else {
                    (1u16 << valid) - 1
                };
                for (r, acc) in acc.iter().enumerate().take(rn) {
                    _mm512_mask_storeu_ps(out.add((r0 + r) * ld + g * 16), mask, *acc);
                }
            }
            r0 += rn;
        }
    }
}

#[cfg(output_head_kernel)]
pub use imp::*;

/// Whether this build has the kernel (it is built for the CPU it runs on:
/// `target-cpu=native`, see .cargo/config.toml; build.rs sets the cfg).
pub const AVAILABLE: bool = cfg!(output_head_kernel);
