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

/// Free space at the top of an arena kept by a release, when asked to
/// keep room for the work to come, and while the server works (glibc's
/// default `M_TOP_PAD`).
const RELEASE_TOP_PAD: i32 = 128 << 10;

/// How much free memory a release keeps at the top of each arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Room for the next job's allocations (about 128 KiB an arena): the
    /// server is working, and what it gives back it faults in again.
    Room,
    /// Nothing: nothing is open, the next job may fault its pages in.
    Nothing,
}

/// Serialises releases: each one lowers the process-wide thresholds while
/// it runs, and a release that restored them while another was trimming
/// made that one keep the working top.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static RELEASING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Gives the free memory of every arena back to the system, and the free
/// top of the calling thread's arena down to what `keep` says (call it on
/// each thread that may have freed much). Returns whether `malloc_trim`
/// gave anything back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory(keep: Keep) -> bool {
    let _releasing = RELEASING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (threshold, pad) = match keep {
        Keep::Room => (RELEASE_TRIM_THRESHOLD, RELEASE_TOP_PAD),
        Keep::Nothing => (0, 0),
    };
    // SAFETY: `mallopt` takes two integers and no pointer; glibc locks the
    // main arena while it changes the parameter, so other threads may
    // allocate meanwhile (and trim more than needed while it is low).
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, threshold);
        libc::mallopt(libc::M_TOP_PAD, pad);
    }
    if keep == Keep::Nothing {
        flush_thread_cache();
    }
    // A free of this size makes glibc trim the top of this thread's arena
    // down to the threshold and pad; `malloc_trim` does that for the main
    // arena only.
    let poke: Vec<u8> = Vec::with_capacity(POKE);
    drop(std::hint::black_box(poke));
    // SAFETY: `malloc_trim` takes an integer and no pointer; glibc locks each
    // arena while it trims it.
    let released = unsafe { libc::malloc_trim(0) == 1 };
    // SAFETY: as above.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, WORKING_TRIM_THRESHOLD);
        libc::mallopt(libc::M_TOP_PAD, RELEASE_TOP_PAD);
    }
    released
}

/// glibc's per-thread cache of freed chunks: 64 size classes (chunks of 32
/// to 1,040 bytes, 16 apart), up to 7 chunks each by default.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const CACHE_CLASSES: usize = 64;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const CACHE_COUNT: usize = 7;

/// Gives the chunks in the calling thread's cache back to their arenas,
/// where `malloc_trim` can merge them with their free neighbours.
///
/// The cache keeps the last chunks of each size a thread freed, wherever
/// they lie: a thread that freed a closed document's data kept up to 448
/// chunks spread over the arenas the document was built in, each holding
/// its page (and splitting the free space around it) out of a trim. After a
/// 2 MB document closed, four arenas kept 160 to 520 KB resident for 30 to
/// 110 KB in use; with the cache off, 28 to 88 KB. glibc empties a cache
/// only when its thread ends, and a free goes to the freeing thread's
/// cache while it has room. So this takes every chunk the cache holds (a
/// request of each class is served from the cache first) and has them
/// freed by a thread made for it, which then ends: what its own cache took
/// of them goes back to the arenas as it ends, and this waits for that.
///
/// (A thread that stayed, its cache kept full so that what it freed went
/// to the arenas, held about 240 KB of its own for good: a third of the
/// memory a closed server kept over an idle one.)
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn flush_thread_cache() {
    // SAFETY: `malloc` takes a size; the chunks are freed once, when
    // `Taken` is dropped, and not used otherwise.
    let taken = Taken(
        cache_sizes()
            .map(|size| unsafe { libc::malloc(size) } as usize)
            .collect(),
    );
    // A thread that cannot start drops its closure here, and the chunks go
    // back into this thread's cache: as before the flush. One that ran has
    // given its cache back by the time `join` returns.
    if let Ok(freer) = std::thread::Builder::new()
        .name("trim-flush".to_owned())
        .stack_size(64 << 10)
        .spawn(move || drop(taken))
    {
        let _ = freer.join();
    }
}

/// Chunks taken from a thread's cache, freed when dropped, on whichever
/// thread drops them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
struct Taken(Vec<usize>);

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
impl Drop for Taken {
    fn drop(&mut self) {
        for &chunk in &self.0 {
            // SAFETY: each address came from `malloc` (or is null, which
            // `free` ignores) and is freed once, here, as `Taken` is dropped.
            unsafe { libc::free(chunk as *mut libc::c_void) };
        }
    }
}

/// A request of each cache class, as many times as the cache holds.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn cache_sizes() -> impl Iterator<Item = usize> {
    (0..CACHE_CLASSES).flat_map(|class| std::iter::repeat_n(24 + 16 * class, CACHE_COUNT))
}

/// Returns whether the allocator gave anything back (never, here).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory(keep: Keep) -> bool {
    let _ = (keep, RELEASE_TRIM_THRESHOLD, RELEASE_TOP_PAD, POKE);
    false
}

/// Drops this program's read-only pages (its code and constant data)
/// from its resident memory, and returns how many bytes of mappings that
/// covered. They stay in the system's page cache: the next access maps
/// them again without reading the disk.
///
/// Code that ran once stays resident: after a 2 MB document was opened and
/// closed, 1.7 MB more of the server's executable was resident than when it
/// started idle, the tree-sitter tables and the analysis. For when nothing
/// is open. Only mappings of the executable file that are not writable and
/// hold no private copy of a page (`Anonymous: 0 kB`; relocated read-only
/// data does) are dropped: their pages are exactly the file's, so dropping
/// them changes nothing a later read sees.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_code_pages() -> usize {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return 0;
    };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    let mut released = 0;
    for (range, anonymous_kb) in read_only_mappings_of(&smaps, &exe) {
        if anonymous_kb != 0 {
            continue;
        }
        // SAFETY: `range` is a whole mapping of this process, private,
        // backed by the executable file, not writable and holding no
        // private page: `MADV_DONTNEED` unmaps its pages, and the next
        // access maps the file's pages again, the same bytes. No pointer
        // into it is invalidated: the mapping stays.
        let advised = unsafe {
            libc::madvise(
                range.start as *mut libc::c_void,
                range.end - range.start,
                libc::MADV_DONTNEED,
            )
        };
        if advised == 0 {
            released += range.end - range.start;
        }
    }
    released
}

/// Drops nothing (no such call here).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_code_pages() -> usize {
    0
}

/// The private, non-writable mappings of `file` in a `/proc/<pid>/smaps`
/// text, with how many kB of each hold private copies of pages.
#[cfg(any(test, all(target_os = "linux", target_env = "gnu")))]
fn read_only_mappings_of(
    smaps: &str,
    file: &std::path::Path,
) -> Vec<(std::ops::Range<usize>, u64)> {
    let mut out = Vec::new();
    let mut current: Option<(std::ops::Range<usize>, Option<u64>)> = None;
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Anonymous:") {
            if let Some((_, anonymous)) = &mut current {
                *anonymous = kb.trim().trim_end_matches("kB").trim().parse().ok();
            }
            continue;
        }
        let mut fields = line.split_ascii_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((lo, hi)) = range.split_once('-') else {
            continue;
        };
        let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        else {
            continue;
        };
        // A mapping's header: range, perms, offset, device, inode, path.
        if let Some((range, Some(anonymous))) = current.take() {
            out.push((range, anonymous));
        }
        // No field before the path holds a slash, and a path starts with one.
        let path = line
            .find(" /")
            .map(|at| std::path::Path::new(&line[at + 1..]));
        let private_read_only = perms.len() == 4
            && perms.starts_with('r')
            && perms.as_bytes()[1] == b'-'
            && perms.ends_with('p');
        if private_read_only && path == Some(file) {
            current = Some((lo..hi, None));
        }
    }
    if let Some((range, Some(anonymous))) = current {
        out.push((range, anonymous));
    }
    out
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
            super::release_free_memory(super::Keep::Room);
            let after = resident_kb_of_mapping_holding(at);
            assert!(before > 8_000, "allocated: {before} kB resident");
            assert!(kept > 8_000, "freed, kept for reuse: {kept} kB resident");
            assert!(after < 2_000, "released: still {after} kB resident");
            // With nothing open, the room kept for work goes too.
            let blocks: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 100_000]).collect();
            assert_eq!(blocks[50].as_ptr() as usize, at, "the same arena again");
            drop(std::hint::black_box(blocks));
            super::release_free_memory(super::Keep::Nothing);
            let nothing = resident_kb_of_mapping_holding(at);
            assert!(
                nothing < 64 && nothing < after,
                "keeping room: {after} kB resident, keeping nothing: {nothing} kB"
            );
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

    /// Only the executable's private mappings that are not writable, with
    /// their private pages counted; paths with spaces read whole.
    #[test]
    fn read_only_mappings_of_the_file() {
        let smaps = "\
5555000-5556000 r--p 00000000 08:01 42                         /opt/my tools/svl
Rss:                   8 kB
Anonymous:             0 kB
VmFlags: rd mr mw me
5556000-5558000 r-xp 00001000 08:01 42                         /opt/my tools/svl
Rss:                   8 kB
Anonymous:             0 kB
5558000-5559000 r--p 00003000 08:01 42                         /opt/my tools/svl
Anonymous:             4 kB
5559000-555a000 rw-p 00004000 08:01 42                         /opt/my tools/svl
Anonymous:             4 kB
555a000-555b000 r--s 00005000 08:01 42                         /opt/my tools/svl
Anonymous:             0 kB
7f00000-7f01000 r-xp 00000000 08:01 43                         /usr/lib/libc.so.6
Anonymous:             0 kB
7f01000-7f02000 rw-p 00000000 00:00 0 
Anonymous:             4 kB
";
        let found = super::read_only_mappings_of(smaps, std::path::Path::new("/opt/my tools/svl"));
        assert_eq!(
            found,
            vec![
                (0x5555000..0x5556000, 0),
                (0x5556000..0x5558000, 0),
                (0x5558000..0x5559000, 4),
            ]
        );
    }

    /// The executable's code that ran leaves resident memory when dropped,
    /// and runs again after (the pages come back from the file).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn code_pages_are_dropped_and_run_again() {
        let exe = std::fs::read_link("/proc/self/exe").expect("exe");
        let resident = || {
            let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
            super::read_only_mappings_of(&smaps, &exe)
                .iter()
                .map(|(range, _)| resident_kb_of_mapping_holding(range.start))
                .sum::<u64>()
        };
        let before = resident();
        let released = super::release_code_pages();
        let after = resident();
        assert!(released > 0, "nothing dropped");
        assert!(before > 100, "resident before: {before} kB");
        // Reading the figures runs code again (and so may the other tests).
        assert!(
            after < before,
            "{before} kB resident before, {after} kB after"
        );
        // Code and constants read again: the same answers.
        assert_eq!(format!("{:?}", 1..3), "1..3");
        assert_eq!(super::read_only_mappings_of("", &exe), vec![]);
    }

    /// A thread's cache holds the last chunks of each size it freed; spread
    /// over a large arena, they keep pages resident that a trim cannot
    /// give back until the cache is flushed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_threads_cache_is_flushed() {
        super::fix_thresholds();
        std::thread::spawn(|| {
            // 1,000 rounds of a chunk of each cache class: about 34 MB.
            let mut rounds: Vec<Vec<Vec<u8>>> = (0..1_000)
                .map(|_| {
                    (0..64)
                        .map(|class| Vec::with_capacity(24 + 16 * class))
                        .collect()
                })
                .collect();
            let at = rounds[500][0].as_ptr() as usize;
            // Freed last, so the cache holds them: seven rounds spread
            // over the arena.
            let spread: Vec<Vec<Vec<u8>>> = [100, 250, 400, 550, 700, 850, 990]
                .iter()
                .rev()
                .map(|&r| std::mem::take(&mut rounds[r]))
                .collect();
            drop(std::hint::black_box(rounds));
            drop(std::hint::black_box(spread));
            super::release_free_memory(super::Keep::Room);
            let cached = resident_kb_of_mapping_holding(at);
            super::flush_thread_cache();
            super::release_free_memory(super::Keep::Room);
            let flushed = resident_kb_of_mapping_holding(at);
            assert!(
                flushed + 100 < cached,
                "{cached} kB resident with the cache, {flushed} kB flushed"
            );
        })
        .join()
        .expect("the thread ran");
    }
}
