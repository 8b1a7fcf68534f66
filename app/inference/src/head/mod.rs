//! The output head: the last matrix product of a model (hidden state ->
//! logits over the vocabulary), computed by AUTOCREA instead of llama.cpp
//! on CPU-only hosts.
//!
//! Why: for a small model with a large vocabulary it is most of the work
//! (Gemma 3 270M: 168M of 268M weights, 262,144 x 640), and llama.cpp's
//! batch-invariant CPU kernel for it is slow with several rows: decoding
//! eight requests together spent 40% of each step there. This kernel reads
//! the weights once per step for every row of the batch and computes each
//! logit in a fixed order, so a request's logits do not depend on the rest
//! of the batch (see kernel.rs). Measured: 8 rows in 6.5 ms instead of ~25.
//!
//! How: llama.cpp's graph callback (`tap.rs`) copies the final normalized
//! hidden state (`result_norm`) and stops the graph before llama.cpp's own
//! output product. Only Q8_0 output weights (the default model's) are
//! handled; anything else, GPU offload, or a CPU without AVX-512 VNNI keeps
//! llama.cpp's path. Before first use the scheduler compares this head with
//! llama.cpp's logits on a real prompt and turns it off if they disagree.

mod kernel;
pub(crate) mod tap;

use std::ffi::{c_int, c_void, CString};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const GGML_TYPE_Q8_0: u32 = 8;
const Q8_0_BLOCK: usize = 34; // f16 scale + 32 signed bytes

/// One 64-byte line, aligned so each weight step is one aligned load.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Line([u8; 64]);

/// The repacked output weights and what the logits need besides them.
pub struct OutputHead {
    n_embd: usize,
    n_vocab: usize,
    groups: usize,
    quants: Vec<Line>,
    scales: Vec<u16>,
    /// Gemma 2 style `cap * tanh(logit / cap)`, when the model has one.
    softcap: Option<f32>,
    /// Where llama.cpp's copy of these weights sits in the model file.
    file: PathBuf,
    file_range: (u64, u64),
}

impl std::fmt::Debug for OutputHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputHead")
            .field("n_embd", &self.n_embd)
            .field("n_vocab", &self.n_vocab)
            .finish()
    }
}

extern "C" {
    fn autocrea_omp_run(
        task: unsafe extern "C" fn(*mut c_void, c_int, c_int),
        data: *mut c_void,
        threads: c_int,
    );
}

/// Whether this CPU and shape can use the kernel.
fn check_shape(n_embd: usize, n_vocab: usize) -> Result<(), String> {
    if !kernel::AVAILABLE {
        return Err("this CPU has no AVX-512 VNNI".into());
    }
    if n_embd == 0 || !n_embd.is_multiple_of(32) || n_vocab == 0 {
        return Err(format!("unsupported shape {n_embd} x {n_vocab}"));
    }
    Ok(())
}

/// Whether this build has the output head's kernel.
pub fn available() -> bool {
    kernel::AVAILABLE
}

impl OutputHead {
    /// Reads and repacks the model's output weights. `Err` says why this
    /// model keeps llama.cpp's output product (not a failure of the model).
    pub fn load(
        path: &Path,
        n_embd: usize,
        n_vocab: usize,
        softcap: Option<f32>,
    ) -> Result<Self, String> {
        check_shape(n_embd, n_vocab)?;
        let (offset, len) = locate_output_tensor(path, n_embd, n_vocab)?;
        let mut head = Self::empty(n_embd, n_vocab, softcap, path, (offset, len));
        let mut file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
        // 1,536 rows (96 groups, 1 MB for the default model) at a time.
        let row_bytes = (n_embd / 32) * Q8_0_BLOCK;
        let mut buf = vec![0u8; row_bytes * 16 * 96];
        let mut row = 0;
        while row < n_vocab {
            let rows = (n_vocab - row).min(16 * 96);
            let bytes = &mut buf[..rows * row_bytes];
            file.read_exact(bytes).map_err(|e| {
                format!("cannot read the output weights of {}: {e}", path.display())
            })?;
            head.pack(row, bytes);
            row += rows;
        }
        Ok(head)
    }

    /// A head over Q8_0 rows held in memory (`n_vocab` rows of `n_embd`).
    pub fn from_q8_0(data: &[u8], n_embd: usize, n_vocab: usize) -> Result<Self, String> {
        check_shape(n_embd, n_vocab)?;
        if data.len() != n_vocab * (n_embd / 32) * Q8_0_BLOCK {
            return Err(format!(
                "{} bytes are not {n_vocab} Q8_0 rows of {n_embd}",
                data.len()
            ));
        }
        let mut head = Self::empty(n_embd, n_vocab, None, Path::new(""), (0, 0));
        head.pack(0, data);
        Ok(head)
    }

    fn empty(
        n_embd: usize,
        n_vocab: usize,
        softcap: Option<f32>,
        file: &Path,
        file_range: (u64, u64),
    ) -> Self {
        let nb = n_embd / 32;
        let groups = n_vocab.div_ceil(16);
        Self {
            n_embd,
            n_vocab,
            groups,
            // Lanes past the vocabulary hold zeros (128 unsigned) with scale 0.
            quants: vec![Line([128; 64]); groups * nb * 8],
            scales: vec![0u16; groups * nb * 16],
            softcap,
            file: file.to_path_buf(),
            file_range,
        }
    }

    /// Repacks whole Q8_0 rows starting at vocabulary row `first`.
    fn pack(&mut self, first: usize, bytes: &[u8]) {
        let nb = self.n_embd / 32;
        for (i, row) in bytes.chunks_exact(nb * Q8_0_BLOCK).enumerate() {
            let (g, lane) = ((first + i) / 16, (first + i) % 16);
            for b in 0..nb {
                let block = &row[b * Q8_0_BLOCK..][..Q8_0_BLOCK];
                self.scales[(g * nb + b) * 16 + lane] = u16::from_le_bytes([block[0], block[1]]);
                for s in 0..8 {
                    let line = &mut self.quants[(g * nb + b) * 8 + s].0;
                    for t in 0..4 {
                        line[lane * 4 + t] = (block[2 + s * 4 + t] as i8 as i16 + 128) as u8;
                    }
                }
            }
        }
    }
    pub fn n_embd(&self) -> usize {
        self.n_embd
    }

    pub fn n_vocab(&self) -> usize {
        self.n_vocab
    }

    /// Logits of `rows` hidden states (`rows * n_embd` floats) into `out`
    /// (`rows * n_vocab`), on `threads` threads of llama.cpp's OpenMP team.
    pub fn logits(&self, hidden: &[f32], rows: usize, out: &mut [f32], threads: usize) {
        assert!(hidden.len() >= rows * self.n_embd && out.len() >= rows * self.n_vocab);
        self.run(hidden, rows, out, threads);
        if let Some(cap) = self.softcap {
            // As llama.cpp: scale by 1/cap, tanh, scale by cap.
            let inv = 1.0 / cap;
            for v in out[..rows * self.n_vocab].iter_mut() {
                *v = (*v * inv).tanh() * cap;
            }
        }
    }

    #[cfg(output_head_kernel)]
    fn run(&self, hidden: &[f32], rows: usize, out: &mut [f32], threads: usize) {
        struct Task<'a> {
            head: &'a OutputHead,
            act: kernel::Quantized,
            rows: usize,
            out: *mut f32,
        }
        unsafe extern "C" fn part(data: *mut c_void, thread: c_int, threads: c_int) {
            // SAFETY: `data` is the Task below, alive for the whole call;
            // threads write disjoint vocabulary ranges of `out`.
            let t = unsafe { &*(data as *const Task) };
            let groups = t.head.groups;
            let (i, n) = (thread as usize, threads.max(1) as usize);
            let (g0, g1) = (groups * i / n, groups * (i + 1) / n);
            unsafe {
                kernel::groups(
                    t.head.quants.as_ptr() as *const u8,
                    t.head.scales.as_ptr(),
                    t.head.n_embd / 32,
                    &t.act,
                    t.rows,
                    g0,
                    g1,
                    t.head.n_vocab,
                    t.out,
                    t.head.n_vocab,
                )
            };
        }
        if rows == 0 {
            return;
        }
        let task = Task {
            head: self,
            act: kernel::quantize(&hidden[..rows * self.n_embd], rows, self.n_embd),
            rows,
            out: out.as_mut_ptr(),
        };
        // SAFETY: the shim calls `part` on each team thread and returns
        // after all of them finished.
        unsafe {
            autocrea_omp_run(
                part,
                &task as *const Task as *mut c_void,
                threads.max(1) as c_int,
            )
        };
    }

    #[cfg(not(output_head_kernel))]
    fn run(&self, _hidden: &[f32], _rows: usize, _out: &mut [f32], _threads: usize) {
        unreachable!("OutputHead::load refuses CPUs without the kernel")
    }

    /// Drops this process's resident pages of llama.cpp's copy of the
    /// weights this head replaces. llama.cpp maps the model file read-only;
    /// the pages come back from the page cache if it ever reads them again
    /// (the token embedding lookup reads a few rows), so nothing is lost.
    /// Without this the weights would count twice against the worker's
    /// memory budget.
    pub fn release_llama_copy(&self) -> Result<usize, String> {
        let maps = std::fs::read_to_string("/proc/self/maps").map_err(|e| e.to_string())?;
        let wanted = std::fs::canonicalize(&self.file).map_err(|e| e.to_string())?;
        let page = 4096u64;
        let (start, len) = self.file_range;
        let mut released = 0usize;
        for line in maps.lines() {
            // start-end perms offset dev inode path
            let mut parts = line.split_whitespace();
            let (Some(range), Some(perms), Some(off)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let path = parts.nth(2).unwrap_or("");
            if Path::new(path) != wanted || perms.contains('w') {
                continue;
            }
            let (Some((a, b)), Ok(map_off)) = (range.split_once('-'), u64::from_str_radix(off, 16))
            else {
                continue;
            };
            let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
                continue;
            };
            // The tensor's bytes inside this mapping, shrunk to whole pages.
            let lo = start.max(map_off);
            let hi = (start + len).min(map_off + (b - a));
            let lo_addr = (a + (lo - map_off)).div_ceil(page) * page;
            let hi_addr = (a + (hi.saturating_sub(map_off))) / page * page;
            if hi <= lo || hi_addr <= lo_addr {
                continue;
            }
            // SAFETY: a read-only file mapping; MADV_DONTNEED only drops
            // page-table entries, later reads fault the file back in.
            let rc = unsafe {
                libc::madvise(
                    lo_addr as *mut c_void,
                    (hi_addr - lo_addr) as usize,
                    libc::MADV_DONTNEED,
                )
            };
            if rc == 0 {
                released += (hi_addr - lo_addr) as usize;
            }
        }
        Ok(released)
    }
}

/// Byte offset and length in the file of the output weights (`output.weight`,
/// or the tied token embedding), which must be Q8_0 of the model's shape.
fn locate_output_tensor(path: &Path, n_embd: usize, n_vocab: usize) -> Result<(u64, u64), String> {
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    let params = llama_cpp_sys_2::gguf_init_params {
        no_alloc: true,
        ctx: std::ptr::null_mut(),
    };
    // SAFETY: gguf_* read the header only; the context is freed below.
    unsafe {
        let ctx = llama_cpp_sys_2::gguf_init_from_file(c_path.as_ptr(), params);
        if ctx.is_null() {
            return Err(format!("cannot read the GGUF header of {}", path.display()));
        }
        let find = |name: &str| {
            let n = CString::new(name).expect("no NUL in tensor names");
            llama_cpp_sys_2::gguf_find_tensor(ctx, n.as_ptr())
        };
        let mut id = find("output.weight");
        if id < 0 {
            id = find("token_embd.weight");
        }
        let result = if id < 0 {
            Err("the file has no output or token embedding tensor".to_string())
        } else {
            let ty = llama_cpp_sys_2::gguf_get_tensor_type(ctx, id) as u32;
            let size = llama_cpp_sys_2::gguf_get_tensor_size(ctx, id) as u64;
            let expected = (n_vocab * (n_embd / 32) * Q8_0_BLOCK) as u64;
            if ty != GGML_TYPE_Q8_0 {
                Err(format!("its output weights are ggml type {ty}, not Q8_0"))
            } else if size != expected {
                Err(format!(
                    "its output weights hold {size} bytes, not {expected}"
                ))
            } else {
                let offset = llama_cpp_sys_2::gguf_get_data_offset(ctx) as u64
                    + llama_cpp_sys_2::gguf_get_tensor_offset(ctx, id) as u64;
                Ok((offset, size))
            }
        };
        llama_cpp_sys_2::gguf_free(ctx);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f16_bits(x: f32) -> u16 {
        // Normal numbers only (the test's scales), truncating the mantissa.
        let b = x.to_bits();
        let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
        (((b >> 16) & 0x8000) as u16) | ((exp as u16) << 10) | ((b >> 13) & 0x3ff) as u16
    }

    fn f16_value(h: u16) -> f32 {
        let exp = ((h >> 10) & 0x1f) as i32 - 15;
        let mant = 1.0 + (h & 0x3ff) as f32 / 1024.0;
        let v = mant * 2f32.powi(exp);
        if h & 0x8000 != 0 {
            -v
        } else {
            v
        }
    }

    /// Pseudo-random Q8_0 rows and the floats they stand for.
    fn weights(n_embd: usize, n_vocab: usize) -> (Vec<u8>, Vec<f32>) {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut bytes = Vec::new();
        let mut floats = Vec::new();
        for _ in 0..n_vocab {
            for _ in 0..n_embd / 32 {
                let d = f16_bits(0.001 + (next() % 1000) as f32 * 1e-5);
                bytes.extend_from_slice(&d.to_le_bytes());
                for _ in 0..32 {
                    let q = (next() % 255) as i32 - 127;
                    bytes.push(q as i8 as u8);
                    floats.push(q as f32 * f16_value(d));
                }
            }
        }
        (bytes, floats)
    }

    #[test]
    fn logits_match_a_plain_dot_product_and_do_not_depend_on_the_batch() {
        if !available() {
            eprintln!("skipped: no AVX-512 VNNI on this CPU");
            return;
        }
        // 100 rows: the last group is partly padding.
        let (n_embd, n_vocab) = (96, 100);
        let (bytes, w) = weights(n_embd, n_vocab);
        let head = OutputHead::from_q8_0(&bytes, n_embd, n_vocab).unwrap();
        let rows = 9; // two passes of the eight-row kernel
        let x: Vec<f32> = (0..rows * n_embd)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
            .collect();
        let mut all = vec![f32::NAN; rows * n_vocab];
        head.logits(&x, rows, &mut all, 2);
        // Against the same quantized numbers summed in f64: only the order
        // of float additions differs. Against the float weights and
        // activations: within the rounding of 8-bit activations.
        let act = kernel::quantize(&x, rows, n_embd);
        let nb = n_embd / 32;
        for r in 0..rows {
            let norm_x = x[r * n_embd..(r + 1) * n_embd]
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt();
            for v in 0..n_vocab {
                let got = all[r * n_vocab + v];
                let mut quantized = 0f64;
                for b in 0..nb {
                    let block = &bytes[(v * nb + b) * Q8_0_BLOCK..][..Q8_0_BLOCK];
                    let dw = f16_value(u16::from_le_bytes([block[0], block[1]])) as f64;
                    let dot: i32 = (0..32)
                        .map(|k| block[2 + k] as i8 as i32 * act.q[r * n_embd + b * 32 + k] as i32)
                        .sum();
                    quantized += dw * act.d[r * nb + b] as f64 * dot as f64;
                }
                assert!(
                    (got as f64 - quantized).abs() <= 1e-5 * quantized.abs().max(1.0),
                    "row {r} token {v}: {got} vs {quantized}"
                );
                let exact: f32 = (0..n_embd)
                    .map(|i| w[v * n_embd + i] * x[r * n_embd + i])
                    .sum();
                let norm_w = w[v * n_embd..(v + 1) * n_embd]
                    .iter()
                    .map(|v| v * v)
                    .sum::<f32>()
                    .sqrt();
                assert!(
                    (got - exact).abs() <= 0.01 * norm_w * norm_x,
                    "row {r} token {v}: {got} vs {exact}"
                );
            }
        }
        // Each row alone, on one thread or two: the same bits.
        for r in [0, 4, 8] {
            for threads in [1, 2] {
                let mut alone = vec![0f32; n_vocab];
                head.logits(&x[r * n_embd..(r + 1) * n_embd], 1, &mut alone, threads);
                assert_eq!(
                    alone,
                    all[r * n_vocab..(r + 1) * n_vocab],
                    "row {r} alone, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn rows_of_the_wrong_size_are_refused() {
        assert!(OutputHead::from_q8_0(&[0u8; 33], 32, 1).is_err());
        assert!(OutputHead::from_q8_0(&[0u8; 34], 33, 1).is_err());
    }
}
