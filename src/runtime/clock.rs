//! The clock API calls wait on: attempt timeouts and the backoff between retries.
//!
//! Normally that is tokio's clock. `chatflow test` gives each test a [`VirtualClock`] instead:
//! its time moves only when told, so a stubbed `timeout` that the stub server will never answer
//! ends at once, with the clock moved by exactly the API's timeout, and a retry's backoff moves
//! it by exactly the wait. No real timer is involved, so such tests take milliseconds and do
//! not depend on the machine's load.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use tokio::sync::watch;

/// How API calls wait.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// Tokio's timers.
    #[default]
    System,
    /// A clock that moves only when told.
    Virtual(Arc<VirtualClock>),
}

/// A point in time of a [`Clock`], to measure how long something took.
#[derive(Debug, Clone, Copy)]
pub enum Stamp {
    /// A moment of tokio's clock.
    System(tokio::time::Instant),
    /// A reading of a [`VirtualClock`].
    Virtual(Duration),
}

impl Clock {
    /// Now, to measure from.
    pub fn stamp(&self) -> Stamp {
        match self {
            Clock::System => Stamp::System(tokio::time::Instant::now()),
            Clock::Virtual(clock) => Stamp::Virtual(clock.now()),
        }
    }

    /// Time passed since `since` (a stamp of this clock).
    pub fn elapsed(&self, since: Stamp) -> Duration {
        match (self, since) {
            (Clock::Virtual(clock), Stamp::Virtual(at)) => clock.now().saturating_sub(at),
            (_, Stamp::System(at)) => at.elapsed(),
            (Clock::System, Stamp::Virtual(_)) => Duration::ZERO,
        }
    }

    /// Waits `wait`: really, or by moving a virtual clock at once.
    pub async fn sleep(&self, wait: Duration) {
        match self {
            Clock::System => tokio::time::sleep(wait).await,
            Clock::Virtual(clock) => clock.advance(wait),
        }
    }

    /// `work`'s output, or `None` when `limit` passed first.
    pub async fn timeout<F: Future>(&self, limit: Duration, work: F) -> Option<F::Output> {
        match self {
            Clock::System => tokio::time::timeout(limit, work).await.ok(),
            Clock::Virtual(clock) => clock.timeout(limit, work).await,
        }
    }
}

/// Virtual time: it starts at zero and moves by [`VirtualClock::advance`] and
/// [`VirtualClock::expire_next`] only.
#[derive(Debug)]
pub struct VirtualClock {
    now: watch::Sender<Duration>,
    /// Deadlines of the timeouts running now, with an id each.
    deadlines: Mutex<Deadlines>,
}

#[derive(Debug, Default)]
struct Deadlines {
    next_id: u64,
    pending: Vec<(u64, Duration)>,
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock {
            now: watch::Sender::new(Duration::ZERO),
            deadlines: Mutex::default(),
        }
    }
}

impl VirtualClock {
    /// A clock at zero, shared by the engine and the stub server of one test.
    pub fn new() -> Arc<VirtualClock> {
        Arc::new(VirtualClock::default())
    }

    /// Time since the clock was made, as far as it has moved.
    pub fn now(&self) -> Duration {
        *self.now.borrow()
    }

    /// Moves the clock forward; timeouts whose deadline it reaches end.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now = now.saturating_add(by));
    }

    /// Moves the clock to the earliest deadline of the running timeouts, ending that timeout:
    /// what a stub server does when it will never answer the request the timeout guards.
    /// Returns whether a timeout was waiting.
    pub fn expire_next(&self) -> bool {
        let earliest = self.lock().pending.iter().map(|(_, d)| *d).min();
        match earliest {
            Some(deadline) => {
                self.now.send_modify(|now| *now = (*now).max(deadline));
                true
            }
            None => false,
        }
    }

    async fn timeout<F: Future>(&self, limit: Duration, work: F) -> Option<F::Output> {
        let deadline = self.now().saturating_add(limit);
        // Registered before `work` is first polled, so whoever learns that `work` will never
        // finish finds the deadline to move to.
        let _pending = self.register(deadline);
        let mut now = self.now.subscribe();
        let mut work = std::pin::pin!(work);
        let mut expired = std::pin::pin!(now.wait_for(|t| *t >= deadline));
        // Finished work wins over a deadline reached at the same time.
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            match expired.as_mut().poll(cx) {
                Poll::Ready(_) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    fn register(&self, deadline: Duration) -> PendingDeadline<'_> {
        let mut deadlines = self.lock();
        let id = deadlines.next_id;
        deadlines.next_id += 1;
        deadlines.pending.push((id, deadline));
        PendingDeadline { clock: self, id }
    }

    /// A poisoned lock only means a panic elsewhere mid-update; the list is still usable.
    fn lock(&self) -> MutexGuard<'_, Deadlines> {
        self.deadlines.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes its deadline when the timeout ends, however it ends.
struct PendingDeadline<'a> {
    clock: &'a VirtualClock,
    id: u64,
}

impl Drop for PendingDeadline<'_> {
    fn drop(&mut self) {
        self.clock.lock().pending.retain(|(id, _)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_virtual_timeout_ends_when_told_at_exactly_its_deadline() {
        let clock = VirtualClock::new();
        clock.advance(Duration::from_millis(250));
        let virtual_clock = Clock::Virtual(clock.clone());
        let never = std::future::pending::<()>();
        let waiting = tokio::spawn({
            let c = virtual_clock.clone();
            async move { c.timeout(Duration::from_secs(2), never).await }
        });
        // Wait until the timeout has registered its deadline; no clock moves meanwhile.
        while !clock.expire_next() {
            tokio::task::yield_now().await;
        }
        assert_eq!(waiting.await.ok(), Some(None), "the timeout ended");
        assert_eq!(clock.now(), Duration::from_millis(2250));
        assert!(!clock.expire_next(), "its deadline is gone");
    }

    #[tokio::test]
    async fn finished_work_wins_and_sleep_moves_the_clock_by_the_wait() {
        let clock = VirtualClock::new();
        let virtual_clock = Clock::Virtual(clock.clone());
        let start = virtual_clock.stamp();
        assert_eq!(
            virtual_clock
                .timeout(Duration::from_secs(1), async { 7 })
                .await,
            Some(7)
        );
        assert_eq!(clock.now(), Duration::ZERO, "finished work moves nothing");
        virtual_clock.sleep(Duration::from_millis(300)).await;
        assert_eq!(virtual_clock.elapsed(start), Duration::from_millis(300));
        assert!(!clock.expire_next(), "no timeout left waiting");
    }
}
