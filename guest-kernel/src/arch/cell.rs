//! `IrqCell`: kernel state shared between threads and interrupt handlers.
//!
//! The kernel runs on one CPU, so turning interrupts off is mutual exclusion. `with`
//! does that and hands out the only `&mut T`; a nested `with` on the same cell (which
//! would alias it) panics instead.

use core::cell::{Cell, UnsafeCell};

pub struct IrqCell<T> {
    busy: Cell<bool>,
    value: UnsafeCell<T>,
}

// SAFETY: one CPU; every access goes through `with`, which runs with interrupts off and
// refuses re-entry, so no two contexts ever hold the value at once.
unsafe impl<T: Send> Sync for IrqCell<T> {}

impl<T> IrqCell<T> {
    pub const fn new(value: T) -> Self {
        IrqCell { busy: Cell::new(false), value: UnsafeCell::new(value) }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        super::cpu::without_interrupts(|| {
            assert!(!self.busy.replace(true), "IrqCell entered twice");
            // SAFETY: `busy` guarantees this is the only live reference (see the type).
            let r = f(unsafe { &mut *self.value.get() });
            self.busy.set(false);
            r
        })
    }

    /// Like `with`, but returns None instead of panicking when the cell is in use (the
    /// panic path uses it, since the panic may have struck inside a `with`).
    pub fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        super::cpu::without_interrupts(|| {
            if self.busy.replace(true) {
                return None;
            }
            // SAFETY: as in `with`.
            let r = f(unsafe { &mut *self.value.get() });
            self.busy.set(false);
            Some(r)
        })
    }
}
