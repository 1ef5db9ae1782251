//! Gives the memory the C allocator keeps free back to the system.
//!
//! glibc keeps what a thread freed in that thread's arena and returns pages
//! to the system only from the top of a heap: after a large document closes,
//! the server stayed at its peak (a 1 MB document: 6 MB idle, 161 MB open,
//! still 161 MB after closing it). `malloc_trim(0)` asks every arena for its
//! free pages back. Elsewhere (musl, macOS, Windows) there is no such call
//! and nothing is done.

/// Largest allocation served from an arena; larger ones get their own
/// mapping. glibc's dynamic threshold may rise to 32 MB on 64-bit systems;
/// with 32 MB fixed, a 10 MB document kept the text copies of its
/// keystrokes in the arenas (195 MB open against 167 MB) for no clear gain
/// in latency.
const MMAP_THRESHOLD: i32 = 4 << 20;

/// Free space at the top of an arena kept for the next allocations while
/// the server works: a keystroke's large buffers (the text, the
/// diagnostics' JSON) are then reused instead of mapped and faulted in
/// afresh each time.
const WORKING_TRIM_THRESHOLD: i32 = 64 << 20;

/// Free space at the top of an arena kept while memory is released.
const RELEASE_TRIM_THRESHOLD: i32 = 128 << 10;

/// A block freed to make glibc trim the calling thread's arena (a free of
/// at least 64 KiB does).
const POKE: usize = 256 << 10;

/// Fixes the allocator's thresholds, once, at start.
///
/// glibc raises them as a program frees large blocks, which keeps a large
/// free top in each thread's arena; `malloc_trim` gives back free pages
/// inside every arena but trims only the main arena's top, so after a
/// 10 MB document was opened, fixed and closed, a worker's arena kept
/// 11 MB. Fixed, they stay high while the server works and
/// [`release_free_memory`] lowers the trim threshold while it releases.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn fix_thresholds() {
    fix_mmap_threshold(MMAP_THRESHOLD);
    // SAFETY: as in `fix_mmap_threshold`.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, WORKING_TRIM_THRESHOLD);
    }
}

/// Fixes the size from which an allocation gets its own mapping, which
/// also stops glibc from raising it each time such a block is freed (and
/// from serving the next large buffers from arenas, where they fragment).
/// For a batch run, where the peak is what counts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn fix_mmap_threshold(bytes: i32) {
    // SAFETY: `mallopt` takes two integers; glibc locks the main arena while
    // it changes its parameters. Setting either threshold disables the
    // dynamic adjustment, which is the point.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, bytes);
    }
}

/// Does nothing (no such call here).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn fix_mmap_threshold(bytes: i32) {
    let _ = bytes;
}

/// Does nothing (no such call here).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn fix_thresholds() {
    let _ = (MMAP_THRESHOLD, WORKING_TRIM_THRESHOLD);
}

/// Gives the free memory of every arena back to the system, and the free
/// top of the calling thread's arena (call it on each thread that may have
/// freed much). Returns whether `malloc_trim` gave anything back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() -> bool {
    // SAFETY: `mallopt` takes two integers and no pointer; glibc locks the
    // main arena while it changes the parameter, so other threads may
    // allocate meanwhile (and trim more than needed while it is low).
    unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, RELEASE_TRIM_THRESHOLD) };
    // A free of this size makes glibc trim the top of this thread's arena
    // down to the threshold; `malloc_trim` does that for the main arena only.
    let poke: Vec<u8> = Vec::with_capacity(POKE);
    drop(std::hint::black_box(poke));
    // SAFETY: `malloc_trim` takes an integer and no pointer; glibc locks each
    // arena while it trims it.
    let released = unsafe { libc::malloc_trim(0) == 1 };
    // SAFETY: as above.
    unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, WORKING_TRIM_THRESHOLD) };
    released
}

/// Returns whether the allocator gave anything back (never, here).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    let _ = (RELEASE_TRIM_THRESHOLD, POKE);
    false
}

/// How much of a stack below the current frame is kept: room for the
/// frames of a call that starts right after a release, and more than the
/// 128-byte red zone below the stack pointer that x86-64 code may use.
const STACK_MARGIN: usize = 64 * 1024;

/// Gives back the touched pages of the calling thread's stack below its
/// current frame, and returns how many bytes of stack that covered.
///
/// A worker thread's stack keeps every page its deepest call ever touched:
/// after analysing a 10 MB document, 10 MB of an analysis worker's 16 MB
/// stack stayed resident once the document closed. The pages below the
/// current frame hold nothing (a frame lives above the stack pointer), so
/// `MADV_DONTNEED` drops them; the next deep call faults in zeroed pages.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_unused_stack() -> usize {
    let here = std::hint::black_box(0u8);
    let frame = std::ptr::addr_of!(here) as usize;
    let Some(low) = stack_low() else {
        return 0;
    };
    // SAFETY: `sysconf` takes no pointer.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        p if p > 0 => p as usize,
        _ => return 0,
    };
    let start = low.next_multiple_of(page);
    let end = frame.saturating_sub(STACK_MARGIN) & !(page - 1);
    if end <= start {
        return 0;
    }
    // SAFETY: `start..end` lies in this thread's stack mapping (between the
    // lowest address `pthread_getattr_np` reports for it and the current
    // frame) and below the current stack pointer by more than the margin:
    // no frame, red zone or value is there, as the stack grows down and
    // this thread is the only one using it. `MADV_DONTNEED` on private
    // anonymous memory makes the next access read zeroes; it never unmaps.
    let advised =
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    if advised == 0 { end - start } else { 0 }
}

/// The lowest address of the calling thread's stack (its guard pages
/// included or not: advising them is harmless).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn stack_low() -> Option<usize> {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `pthread_getattr_np` initialises `attr` when it returns 0; it
    // is read and destroyed only then.
    unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let got = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        (got == 0 && !addr.is_null()).then_some(addr as usize)
    }
}

/// Gives back nothing (no such call here).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_unused_stack() -> usize {
    0
}

#[cfg(test)]
mod tests {
    /// A thread that went deep once keeps those pages until it releases
    /// them: its resident memory, read from `/proc/self/smaps` for the
    /// mapping that holds its stack, falls after the release.
    /// The resident size of the mapping that holds `address` (0 if none
    /// does, as after a heap shrank below it).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn resident_kb_of_mapping_holding(address: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((lo, hi)) = range.split_once('-')
                && let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&address);
            } else if inside && let Some(kb) = line.strip_prefix("Rss:") {
                return kb
                    .trim()
                    .trim_end_matches(" kB")
                    .trim()
                    .parse()
                    .expect("kB");
            }
        }
        0
    }

    /// Freed memory at the top of a thread's arena stays for the next
    /// allocations while the server works, and goes back to the system when
    /// the thread releases it (which `malloc_trim` alone does not do
    /// outside the main arena).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_threads_free_arena_top_is_released() {
        super::fix_thresholds();
        std::thread::spawn(|| {
            let blocks: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 100_000]).collect();
            let at = blocks[50].as_ptr() as usize;
            let before = resident_kb_of_mapping_holding(at);
            drop(std::hint::black_box(blocks));
            let kept = resident_kb_of_mapping_holding(at);
            super::release_free_memory();
            let after = resident_kb_of_mapping_holding(at);
            assert!(before > 8_000, "allocated: {before} kB resident");
            assert!(kept > 8_000, "freed, kept for reuse: {kept} kB resident");
            assert!(after < 2_000, "released: still {after} kB resident");
        })
        .join()
        .expect("the thread ran");
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_deep_stack_is_given_back() {
        #[inline(never)]
        fn deep(depth: usize) -> u8 {
            let buffer = std::hint::black_box([depth as u8; 4096]);
            if depth == 0 {
                buffer[0]
            } else {
                deep(depth - 1).wrapping_add(buffer[100])
            }
        }
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(|| {
                let here = 0u8;
                let at = std::ptr::addr_of!(here) as usize;
                deep(2_000); // about 8 MB
                let before = resident_kb_of_mapping_holding(at);
                let released = super::release_unused_stack();
                let after = resident_kb_of_mapping_holding(at);
                assert!(before > 7_000, "went deep: {before} kB resident");
                assert!(released > 7 << 20, "released {released} bytes");
                assert!(after < 1_000, "after the release: {after} kB resident");
                // The stack still works, deep again.
                deep(2_000);
            })
            .expect("spawn")
            .join()
            .expect("the thread ran");
    }
}
