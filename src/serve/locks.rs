//! One lock per conversation: two messages to the same conversation are processed one after
//! the other, and conversations never wait for each other. Entries are removed when nobody
//! holds or waits for them, so the map stays as large as the set of busy conversations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

type Slot = Arc<tokio::sync::Mutex<()>>;

/// One lock per conversation id, so that turns of one conversation run one at a time
/// while different conversations run in parallel.
#[derive(Default)]
pub struct Locks {
    map: Mutex<HashMap<String, Slot>>,
}

/// Held while a conversation's turn runs and commits.
pub struct Held<'a> {
    locks: &'a Locks,
    id: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Locks {
    /// Waits for the conversation's lock; it is released when the guard drops.
    pub async fn lock(&self, id: &str) -> Held<'_> {
        let slot = {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(map.entry(id.to_string()).or_default())
        };
        let guard = slot.lock_owned().await;
        Held {
            locks: self,
            id: id.to_string(),
            guard: Some(guard),
        }
    }

    /// Conversations with a turn running or waiting (for tests).
    pub fn busy(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut map = self.locks.map.lock().unwrap_or_else(|p| p.into_inner());
        drop(self.guard.take());
        // Only the map's own reference left: nobody holds or waits for this conversation.
        if map
            .get(&self.id)
            .is_some_and(|slot| Arc::strong_count(slot) == 1)
        {
            map.remove(&self.id);
        }
    }
}
