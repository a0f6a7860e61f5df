//! The fork-join pool behind `par_for`: `threads - 1` persistent workers that spin for a
//! while after each parallel loop before they sleep, as OpenMP's do (PyTorch's Intel OpenMP
//! spins 200 ms by default, KMP_BLOCKTIME), so the back-to-back kernels of a training step
//! hand work over in well under a microsecond instead of paying a futex wake each time.
//!
//! Rejected: rayon's `in_place_scope` (what `par_for` used before). Its workers go to sleep
//! within microseconds of running out of work, and waking one on this 2-core VM cost about
//! 30 us: a 65K-element relu took 40 us on two threads against 10 us on one. rayon stays as
//! the fallback for a loop started while the pool is busy (a second Python thread running
//! a kernel at the same time, or a loop nested inside a pool task).
//!
//! Protocol. One job runs at a time (`busy`). The caller writes the job, then publishes it
//! in `ctrl` = OPEN bit | sequence number | count of joined workers. A worker joins with a
//! CAS that bumps the count (only while OPEN and below the job's cap), claims indices from
//! the job's counter, and leaves by decrementing the count. The caller runs the loop too,
//! then clears OPEN (no one joins after that) and waits for the count to reach zero, so no
//! worker can touch the job's closure, which lives on the caller's stack, after it returns.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

const OPEN: u64 = 1 << 63;
const SEQ_ONE: u64 = 1 << 32;
const COUNT_MASK: u64 = SEQ_ONE - 1;

/// How long an idle worker spins before sleeping. Long enough to bridge the Python-side
/// gaps between the kernels of one step (tens of microseconds), short enough that an idle
/// program gives the core back almost at once (PyTorch's 200 ms keeps a core busy long
/// after the last op; on 2 cores that starves DataLoader workers).
const SPIN: Duration = Duration::from_micros(2000);

/// One parallel loop: `f(i)` for `i` in `0..n`, indices claimed from `next`.
struct Job {
    f: *const (dyn Fn(usize) + Sync),
    n: usize,
}

struct Pool {
    ctrl: AtomicU64,
    next: AtomicUsize,
    job: UnsafeCell<Job>,
    /// Workers allowed to join the open job (threads its caller asked for, minus itself).
    /// Atomic, unlike the job, because workers read it before they have joined.
    cap: AtomicU64,
    busy: AtomicBool,
    panicked: AtomicBool,
    /// Workers spawned so far; `spawn` serialises the spawning itself.
    workers: AtomicUsize,
    spawn: Mutex<()>,
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
}

// SAFETY: `job` is written only by the caller holding `busy` while no worker has joined
// (count zero, OPEN clear), and read only by workers that joined (count > 0) under the
// acquire/release ordering of `ctrl`. The closure behind `f` is `Sync`.
unsafe impl Sync for Pool {}
// SAFETY: as above; the raw closure pointer is only dereferenced under that protocol.
unsafe impl Send for Pool {}

fn noop(_: usize) {}

/// The sequence number in a `ctrl` word.
fn seq(c: u64) -> u64 {
    c & !OPEN & !COUNT_MASK
}

/// `c` publishes an open job other than the one with sequence `seen`.
fn fresh(c: u64, seen: u64) -> bool {
    c & OPEN != 0 && seq(c) != seen
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        ctrl: AtomicU64::new(0),
        next: AtomicUsize::new(0),
        job: UnsafeCell::new(Job { f: &noop as &(dyn Fn(usize) + Sync), n: 0 }),
        cap: AtomicU64::new(0),
        busy: AtomicBool::new(false),
        panicked: AtomicBool::new(false),
        workers: AtomicUsize::new(0),
        spawn: Mutex::new(()),
        sleepers: AtomicUsize::new(0),
        sleep: Mutex::new(()),
        wake: Condvar::new(),
    })
}

impl Pool {
    /// Claim and run indices until none are left.
    fn drain(&self, f: &(dyn Fn(usize) + Sync), n: usize) {
        loop {
            let i = self.next.fetch_add(1, Relaxed);
            if i >= n {
                break;
            }
            f(i);
        }
    }

    fn ensure_workers(&'static self, want: usize) {
        // Every parallel loop passes here: one atomic load once the workers exist.
        if self.workers.load(Acquire) >= want {
            return;
        }
        let _g = self.spawn.lock().unwrap_or_else(|e| e.into_inner());
        while self.workers.load(Acquire) < want {
            let name = format!("ferrotorch-{}", self.workers.load(Acquire) + 1);
            if std::thread::Builder::new().name(name).spawn(move || self.work()).is_err() {
                break; // fewer workers: the caller and the others take the pieces
            }
            self.workers.fetch_add(1, Release);
        }
    }

    fn work(&self) {
        let mut seen = seq(self.ctrl.load(Acquire));
        loop {
            let start = Instant::now();
            let mut spins = 0u32;
            loop {
                let c = self.ctrl.load(Acquire);
                if fresh(c, seen) {
                    seen = seq(c);
                    self.try_join(c);
                    break;
                }
                std::hint::spin_loop();
                spins += 1;
                if spins.is_multiple_of(256) && start.elapsed() > SPIN {
                    self.park(seen);
                    break;
                }
            }
        }
    }

    /// Join the job published in `c` if it is still open and has room, run it, leave.
    fn try_join(&self, mut c: u64) {
        loop {
            // A cap already rewritten for a later job is harmless: the CAS below fails
            // on the changed sequence.
            let cap = self.cap.load(Acquire);
            if c & OPEN == 0 || c & COUNT_MASK >= cap {
                return;
            }
            match self.ctrl.compare_exchange_weak(c, c + 1, AcqRel, Acquire) {
                Ok(_) => break,
                Err(now) if seq(now) == seq(c) => c = now,
                Err(_) => return,
            }
        }
        // SAFETY: joined (count > 0), so the caller keeps the job and its closure alive
        // until we leave.
        let (f, n) = unsafe {
            let j = &*self.job.get();
            (&*j.f, j.n)
        };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.drain(f, n))).is_err() {
            self.panicked.store(true, Relaxed);
            self.next.store(usize::MAX / 2, Relaxed);
        }
        self.ctrl.fetch_sub(1, Release);
    }

    fn park(&self, seen: u64) {
        let mut g = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, SeqCst);
        // Re-check under the lock: a job published before we counted ourselves asleep would
        // otherwise never wake us (its caller saw no sleepers). Its caller notifies under
        // this lock, so nothing slips between this check and the wait.
        while !fresh(self.ctrl.load(SeqCst), seen) {
            g = self.wake.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        self.sleepers.fetch_sub(1, SeqCst);
    }
}

/// Run `f(i)` for `i` in `0..n` on the calling thread and up to `helpers` pool workers.
/// Returns false (and runs nothing) when the pool is busy with another loop.
pub(super) fn run(n: usize, helpers: usize, f: &(dyn Fn(usize) + Sync)) -> bool {
    let p = pool();
    if p.busy.compare_exchange(false, true, Acquire, Relaxed).is_err() {
        return false;
    }
    p.ensure_workers(helpers);
    // SAFETY: we hold `busy`, and the previous job ended with OPEN clear and count zero, so
    // no worker reads the job now. The lifetime is erased: the closure outlives every use,
    // since we wait below for all joined workers to leave before returning.
    unsafe {
        let f: *const (dyn Fn(usize) + Sync + '_) = f;
        *p.job.get() = Job { f: std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const (dyn Fn(usize) + Sync + 'static)>(f), n };
    }
    p.cap.store(helpers as u64, Relaxed);
    p.next.store(0, Relaxed);
    let next_seq = seq(p.ctrl.load(Relaxed)).wrapping_add(SEQ_ONE) & !OPEN;
    p.ctrl.store(OPEN | next_seq, SeqCst);
    if p.sleepers.load(SeqCst) > 0 {
        let _g = p.sleep.lock().unwrap_or_else(|e| e.into_inner());
        p.wake.notify_all();
    }
    let mine = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.drain(f, n)));
    if mine.is_err() {
        p.next.store(usize::MAX / 2, Relaxed);
    }
    p.ctrl.fetch_and(!OPEN, AcqRel);
    while p.ctrl.load(Acquire) & COUNT_MASK != 0 {
        std::hint::spin_loop();
    }
    let worker_panicked = p.panicked.swap(false, Relaxed);
    p.busy.store(false, Release);
    if let Err(e) = mine {
        std::panic::resume_unwind(e);
    }
    if worker_panicked {
        panic!("a ferrotorch worker thread panicked in a parallel kernel");
    }
    true
}
