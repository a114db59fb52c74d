use std::sync::Arc;

use airlock_store::Store;
use airlock_upstream::Upstream;

use crate::ServerConfig;
use crate::decide::Gate;
use crate::packuments::PackumentCache;
use crate::tarballs::Tarballs;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: ServerConfig,
    pub(crate) gate: Gate,
    pub(crate) upstream: Upstream,
    pub(crate) packuments: PackumentCache,
    pub(crate) tarballs: Tarballs,
}

impl AppState {
    pub fn new(config: ServerConfig, upstream: Upstream, store: Store) -> Self {
        // Parsed packuments get most of the memory budget; hot small tarballs the rest.
        let packument_budget = config.memory_cache_bytes / 4 * 3;
        let tarball_budget = config.memory_cache_bytes - packument_budget;
        let packuments =
            PackumentCache::new(&config, upstream.clone(), store.clone(), packument_budget);
        let tarballs = Tarballs::new(upstream.clone(), store, tarball_budget);
        Self {
            inner: Arc::new(Inner {
                config,
                gate: Gate,
                upstream,
                packuments,
                tarballs,
            }),
        }
    }

    pub fn packuments(&self) -> &PackumentCache {
        &self.inner.packuments
    }
}
