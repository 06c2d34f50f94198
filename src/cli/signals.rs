//! Every signal whose default action ends the process (HUP, INT, QUIT, TERM, USR1, USR2, ALRM):
//! remove this process's spill directories and private copies of run databases made for
//! reading, then end as the signal would (terminated by it, as without a handler). SIGPIPE is
//! ignored by the Rust runtime (a closed stdout is an `EPIPE` write error, ended quietly), so it
//! never ends the process and needs no handler. A run database needs nothing: every committed
//! iteration is durable and a restart continues from it.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a signal is being handled: the process is about to end by it.
static ENDING: AtomicBool = AtomicBool::new(false);

/// If a signal is being handled, wait for it to end the process (a run failing because its
/// spill directory was just removed must not exit first, with its own code and message).
pub(crate) fn wait_if_ending() {
    while ENDING.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

/// The signals handled: those whose default action terminates the process, except SIGPIPE
/// (ignored, see the module comment) and the uncatchable SIGKILL/SIGSTOP.
#[cfg(unix)]
pub(crate) const TERMINATING: [i32; 7] = {
    use signal_hook::consts::*;
    [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM]
};

/// Install the handler (a thread waiting for the signals; unix only).
#[cfg(unix)]
pub(crate) fn install() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new(TERMINATING) else {
        return; // Without the handler a signal ends the process as before.
    };
    let spawned = std::thread::Builder::new()
        .name("retrace-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                ENDING.store(true, Ordering::SeqCst);
                sampler::store::remove_spill_dirs();
                sampler::db::remove_private_copies();
                // Restores the default action and raises the signal again.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
    drop(spawned);
}

/// Install the handler (nothing to do without unix signals).
#[cfg(not(unix))]
pub(crate) fn install() {}
