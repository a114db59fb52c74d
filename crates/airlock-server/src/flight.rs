//! Coalescing of concurrent identical work.
//!
//! When twenty clients ask for the same missing tarball at once, one upstream fetch
//! runs and all twenty wait for its result (the same idea as uv's `OnceMap` and
//! pingora's cache lock). The entry is removed when the work finishes, so a later
//! request starts afresh and sees whatever the store now holds.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub(crate) struct SingleFlight<K, V> {
    inflight: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `work` unless the same key is already in flight, in which case it waits
    /// for that run's result. If the running caller is cancelled, a waiting one takes
    /// over, so callers should spawn work that must finish regardless.
    pub(crate) async fn run<F, Fut>(&self, key: K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = self.lock().entry(key.clone()).or_default().clone();
        let value = cell.get_or_init(work).await.clone();
        let mut inflight = self.lock();
        if inflight
            .get(&key)
            .is_some_and(|current| Arc::ptr_eq(current, &cell))
        {
            inflight.remove(&key);
        }
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<OnceCell<V>>>> {
        self.inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn concurrent_callers_share_one_run_and_later_ones_start_afresh() {
        let flight = Arc::new(SingleFlight::<&str, usize>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let call = || {
            let (flight, runs) = (flight.clone(), runs.clone());
            async move {
                flight
                    .run("key", || async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        runs.fetch_add(1, Ordering::SeqCst) + 1
                    })
                    .await
            }
        };
        let results = futures_util::future::join_all((0..20).map(|_| tokio::spawn(call()))).await;
        assert!(results.into_iter().all(|result| result.unwrap() == 1));
        assert_eq!(call().await, 2);
    }
}
