//! How a long run is watched and stopped: the [`Reporter`] progress callbacks (only the CLI
//! draws them) and the [`Stop`] signal (Ctrl-C) that every long command shares. Both sit below
//! every layer that does work, so observing, executing and collecting can use them alike.

use std::sync::Arc;

use tokio::sync::watch;

/// Progress callbacks; only the CLI knows how to draw them.
pub trait Reporter: Send + Sync {
    /// A phase begins with `total` units of work.
    fn start(&self, phase: &'static str, total: usize);
    /// `n` more units of work were found (a phase whose work is listed as it goes).
    fn grow(&self, _n: usize) {}
    /// `n` units finished.
    fn advance(&self, n: usize);
    /// The phase is over.
    fn finish(&self);
}

/// A reporter that shows nothing.
pub struct Silent;

impl Reporter for Silent {
    fn start(&self, _: &'static str, _: usize) {}
    fn advance(&self, _: usize) {}
    fn finish(&self) {}
}

/// A stop signal shared by everything a run starts: once triggered, no new work begins.
#[derive(Clone)]
pub struct Stop(Arc<watch::Sender<bool>>);

impl Default for Stop {
    fn default() -> Stop {
        Stop(Arc::new(watch::channel(false).0))
    }
}

impl Stop {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop is triggered.
    pub async fn stopped(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// What a [`fan_out`] did: the results of the items that ran, and how many never started
/// because the run was stopped first.
#[derive(Debug)]
pub struct FanOut<T> {
    pub results: Vec<T>,
    pub not_started: usize,
}

/// Run `work` on every item, at most `limit` at once, advancing `reporter` (phase `phase`)
/// as each ends. Once `stop` fires no new item starts; those in flight finish and count.
/// Results come in completion order: callers sort what they print.
pub async fn fan_out<I, T, F, Fut>(
    items: Vec<I>,
    limit: usize,
    phase: &'static str,
    reporter: &dyn Reporter,
    stop: &Stop,
    work: F,
) -> FanOut<T>
where
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    use futures::StreamExt;
    let total = items.len();
    reporter.start(phase, total);
    // `take_while` is asked for the next item only when a slot frees up, so checking the stop
    // there is exactly "start nothing new".
    let results: Vec<T> = futures::stream::iter(items)
        .take_while(|_| std::future::ready(!stop.is_stopped()))
        .map(work)
        .buffer_unordered(limit.max(1))
        .inspect(|_| reporter.advance(1))
        .collect()
        .await;
    reporter.finish();
    FanOut {
        not_started: total - results.len(),
        results,
    }
}
