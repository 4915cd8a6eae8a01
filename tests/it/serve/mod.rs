//! `chatflow serve`: the HTTP API over real loopback sockets and a real SQLite file; the store
//! tests run on a real PostgreSQL cluster too ([`pg`]).
//!
//! In-process servers (`support::Server`) for the API contract; the real `chatflow` binary
//! (`process`) for what a process does: the ready line, signals, kills and restarts.

/// Runs the store test `async fn $test(store: TestStore)` twice, as `$test::sqlite` and
/// `$test::postgres`: one conformance suite for both backends.
macro_rules! on_both_stores {
    ($test:ident) => {
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let store = crate::serve::support::TestStore::sqlite(stringify!($test));
                super::$test(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(store) =
                    crate::serve::support::TestStore::postgres(stringify!($test)).await
                {
                    super::$test(store).await;
                }
            }
        }
    };
}

mod api;
mod channels;
mod durability;
pub mod pg;
pub mod process;
pub mod report;
mod sensitive;
mod store;
pub mod streaming;
pub mod support;
mod tls;
mod turns;
mod workers;
