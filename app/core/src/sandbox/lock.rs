//! The std mutexes of the sandbox manager guard maps and small records
//! whose every update is one insert, remove or assignment, so a panic in
//! another thread while it held one leaves nothing half-written: a
//! poisoned lock is taken as it is rather than spreading the panic.

use std::sync::{Mutex, MutexGuard};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
