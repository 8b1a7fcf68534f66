//! llama.cpp's graph callback, used to take the final hidden state of the
//! rows that need logits (`result_norm`) and, when the output head computes
//! the logits, to stop the graph before llama.cpp's own output product.
//!
//! llama.cpp computes each micro-batch of a decode call with one graph; the
//! callback sees them in order and appends their rows. The scheduler puts
//! only batches into one call whose micro-batches keep its row order (see
//! scheduler.rs), so the rows appended here are the call's output rows in
//! batch order.

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_sys_2::{ggml_tensor, llama_context_params};
use std::ffi::{c_void, CStr};

/// What the callback writes to; owned by the decode thread, which reads it
/// between decode calls only.
pub(crate) struct HiddenTap {
    pub n_embd: usize,
    /// Hidden states taken so far (`n_embd` floats per row).
    pub rows: Vec<f32>,
    /// Stop the graph once the hidden state is taken (the output head
    /// computes the logits); false lets llama.cpp compute its own.
    pub stop: bool,
    /// Why a hidden state could not be taken, if it could not.
    pub fault: Option<String>,
}

impl HiddenTap {
    pub fn new(n_embd: usize) -> Self {
        Self {
            n_embd,
            rows: Vec::new(),
            stop: false,
            fault: None,
        }
    }

    pub fn taken(&self) -> usize {
        self.rows.len() / self.n_embd.max(1)
    }
}

const RESULT_NORM: &[u8] = b"result_norm";
const GGML_TYPE_F32: u32 = 0;

/// The `cb_eval` callback. With `ask` llama.cpp asks whether we want a
/// node's data (only `result_norm`); without it the node has been computed
/// and returning false stops the rest of the graph.
unsafe extern "C" fn on_node(t: *mut ggml_tensor, ask: bool, user: *mut c_void) -> bool {
    // SAFETY: llama.cpp passes a live tensor and the pointer given at
    // context creation, a HiddenTap the decode thread keeps alive and does
    // not touch during a decode call.
    let (t, tap) = unsafe { (&*t, &mut *(user as *mut HiddenTap)) };
    let name = unsafe { CStr::from_ptr(t.name.as_ptr()) };
    if name.to_bytes() != RESULT_NORM {
        return !ask;
    }
    if ask {
        return true;
    }
    let rows = (t.ne[1] * t.ne[2] * t.ne[3]) as usize;
    let host =
        !t.buffer.is_null() && unsafe { llama_cpp_sys_2::ggml_backend_buffer_is_host(t.buffer) };
    if t.type_ != GGML_TYPE_F32
        || t.ne[0] as usize != tap.n_embd
        || t.nb[1] != tap.n_embd * 4
        || t.data.is_null()
        || !host
    {
        tap.fault = Some(format!(
            "result_norm is not a host f32 matrix of {} columns (type {}, {} columns)",
            tap.n_embd, t.type_, t.ne[0]
        ));
        return true;
    }
    // SAFETY: checked above: contiguous host f32 rows of n_embd.
    let data = unsafe { std::slice::from_raw_parts(t.data as *const f32, rows * tap.n_embd) };
    tap.rows.extend_from_slice(data);
    !tap.stop
}

/// Context parameters with the callback installed, writing to `tap`.
///
/// llama-cpp-2 does not expose `cb_eval`; its `LlamaContextParams` is a
/// struct with the raw `llama_context_params` as its only field, which the
/// size check below proves: a lone field as large as its struct sits at
/// offset 0, so the two are the same bytes.
pub(crate) fn install(params: LlamaContextParams, tap: *mut HiddenTap) -> LlamaContextParams {
    const _: () = assert!(size_of::<LlamaContextParams>() == size_of::<llama_context_params>());
    // SAFETY: same size and the raw struct is the only field (see above).
    let mut raw: llama_context_params = unsafe { std::mem::transmute(params) };
    raw.cb_eval = Some(on_node);
    raw.cb_eval_user_data = tap as *mut c_void;
    unsafe { std::mem::transmute(raw) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    #[test]
    fn the_raw_parameters_are_the_wrapper_s_bytes() {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(1234))
            .with_n_batch(77)
            .with_n_threads(3);
        let mut tap = HiddenTap::new(8);
        let installed = install(params, &mut tap);
        assert_eq!(installed.n_ctx(), NonZeroU32::new(1234));
        assert_eq!(installed.n_batch(), 77);
        assert_eq!(installed.n_threads(), 3);
        let raw: llama_context_params = unsafe { std::mem::transmute(installed) };
        assert!(raw.cb_eval.is_some());
        assert_eq!(
            raw.cb_eval_user_data,
            &mut tap as *mut HiddenTap as *mut c_void
        );
    }
}
