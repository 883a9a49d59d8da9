//! Spreading independent samples over the machine's cores.

/// Worker threads for a batch: OMPQC_THREADS when set, else one per core.
pub fn threads() -> usize {
    std::env::var("OMPQC_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |t| t.get()))
}

thread_local! {
    /// Set inside a worker of `split_samples`: nested loops then run on the worker's own thread.
    static IN_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Splits `n` samples into one contiguous range per thread and runs `f(range)` on each in parallel; results
/// come back in order. Parallel loops inside `f` stay on its thread.
pub fn split_samples<R: Send>(n: usize, f: impl Fn(std::ops::Range<usize>) -> R + Sync) -> Vec<R> {
    let threads = if IN_WORKER.with(|w| w.get()) { 1 } else { threads().min(n).max(1) };
    if threads == 1 {
        return vec![f(0..n)];
    }
    let per = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(per)
            .map(|start| {
                let f = &f;
                scope.spawn(move || {
                    IN_WORKER.with(|w| w.set(true));
                    f(start..(start + per).min(n))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker panicked")).collect()
    })
}

/// Runs `f(sample, out_chunk)` for each of the `n` equal chunks of `out`, spread over the cores. Each sample is
/// computed the same way whatever the thread count, so results do not depend on it.
pub fn for_each_sample<T: Send>(out: &mut [T], n: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    if n == 0 {
        return;
    }
    let len = out.len() / n;
    let threads = if IN_WORKER.with(|w| w.get()) { 1 } else { threads().min(n) };
    if threads <= 1 || len == 0 {
        out.chunks_mut(len.max(1)).enumerate().for_each(|(s, o)| f(s, o));
        return;
    }
    let per = n.div_ceil(threads);
    std::thread::scope(|scope| {
        for (t, chunk) in out.chunks_mut(per * len).enumerate() {
            let f = &f;
            scope.spawn(move || chunk.chunks_mut(len).enumerate().for_each(|(j, o)| f(t * per + j, o)));
        }
    });
}
