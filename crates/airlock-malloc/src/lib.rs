//! The allocator settings a long-running server needs under glibc.
//!
//! glibc's malloc raises its mmap threshold each time a large block is freed (up to
//! 32 MiB), so after the first large packument body every later one is carved out
//! of the heap arenas, and a freed arena is rarely given back: measured with
//! `bench/proxy_detection.py`, a cold install of a 519-package app left the server
//! at 513 MB of resident memory for a live heap that peaked near 120 MB (heaptrack).
//! Fixing the threshold (blocks of 256 KiB and more are mapped and unmapped on
//! their own), trimming the heap top above 1 MiB, and two arenas brought it to
//! about 330 MB. Other C libraries keep their own behaviour.

/// Applies the settings; call first thing in `main`, before any thread starts.
/// Returns whether they were applied (only under glibc).
pub fn tune_for_server() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        #[expect(
            unsafe_code,
            reason = "mallopt is a C call; it only sets allocator parameters"
        )]
        // SAFETY: `mallopt` takes plain integers and only changes allocator
        // parameters (under the allocator's own lock); early, so that the arena
        // limit holds for every thread.
        let applied = unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024) == 1
                && libc::mallopt(libc::M_ARENA_MAX, 2) == 1
        };
        applied
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_settings_apply_under_glibc() {
        assert_eq!(
            super::tune_for_server(),
            cfg!(all(target_os = "linux", target_env = "gnu"))
        );
    }
}
