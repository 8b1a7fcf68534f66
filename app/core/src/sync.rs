//! One way to take a std mutex. The appliance's std mutexes guard maps and
//! small records whose every update is one insert, remove or assignment,
//! so a panic in another thread while it held one leaves nothing
//! half-written: a poisoned lock is taken as it is rather than spreading
//! the panic to every later caller. (Locks held across an await are
//! tokio's, and clippy's `await_holding_lock` keeps it that way.)

use std::sync::{Mutex, MutexGuard};

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
