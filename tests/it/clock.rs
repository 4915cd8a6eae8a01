//! Support for tests on tokio's paused clock that still talk over real loopback sockets.
//!
//! On a paused clock tokio jumps time to the next timer whenever the runtime has nothing to run,
//! including while it waits for a socket, so an attempt's timeout would fire before the server
//! even read the request. While a blocking task runs tokio does not jump; [`HeldClock`] is such a
//! task. With the clock held, time moves only by `tokio::time::advance`, and a test walks an API
//! call through its attempts, timeouts and backoff waits exactly, whatever the machine's load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Keeps a paused clock from advancing by itself until dropped.
pub struct HeldClock {
    _release: mpsc::Sender<()>,
}

/// Holds the clock of the current (paused, current-thread) runtime.
pub fn hold_clock() -> HeldClock {
    let (release, released) = mpsc::channel::<()>();
    tokio::task::spawn_blocking(move || {
        // Returns when the sender is dropped.
        let _ = released.recv();
    });
    HeldClock { _release: release }
}

/// Waits, without moving the clock, until `done` holds, e.g. until a server has received a
/// request. Panics if `call` ends first: it would never hold then.
pub async fn wait_until<T: std::fmt::Debug>(
    done: impl Fn() -> bool + Send + 'static,
    call: &mut tokio::task::JoinHandle<T>,
) {
    // The runtime waits for blocking tasks when it shuts down: stop polling on a panic too.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let stop = StopOnDrop(Arc::default());
    let stopped = stop.0.clone();
    let waiting = tokio::task::spawn_blocking(move || {
        while !done() && !stopped.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    tokio::select! {
        _ = waiting => {}
        ended = call => panic!("the call ended first: {ended:?}"),
    }
}

/// Moves the held clock by `ms` milliseconds and lets the tasks its timers woke run.
pub async fn advance_ms(ms: u64) {
    tokio::time::advance(Duration::from_millis(ms)).await;
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}
