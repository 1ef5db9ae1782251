//! A release that keeps nothing leaves nothing running: the thread that
//! frees the flushed cache's chunks ends with the flush. (A thread kept for
//! it held about 240 KB of its own cache for as long as the server ran.)
//! Alone in its test binary, so that no other test starts or ends threads.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_release_that_keeps_nothing_leaves_no_thread_behind() {
    use std::time::{Duration, Instant};
    fn threads() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("a Threads line")
    }
    let before = threads();
    for _ in 0..3 {
        svl_trim::release_free_memory(svl_trim::Keep::Nothing);
    }
    // A thread that has been joined is counted until the kernel has
    // released it: wait for that, not for a fixed time.
    let deadline = Instant::now() + Duration::from_secs(60);
    while threads() != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(threads(), before, "threads left running by the releases");
}
