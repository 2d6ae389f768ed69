//! Background tasks that outlive a panic: a task that panics is started again
//! (after a short pause) instead of leaving the server without its group-commit
//! writer, its rollup fold or its schedules. A task that returns is done.

use std::future::Future;
use std::time::Duration;

/// The pause before a panicked task is started again; it doubles with each panic,
/// up to [`MAX_RESTART_DELAY`] (a schedule that panics every run must not
/// call a provider every 200 ms).
pub const RESTART_DELAY: Duration = Duration::from_millis(200);
pub const MAX_RESTART_DELAY: Duration = Duration::from_secs(300);

/// Runs `make()` as a task, and again each time it panics; ends when a run
/// returns or is cancelled (its runtime stopping). Returns how many runs panicked.
pub fn spawn_supervised<F, Fut>(name: &'static str, make: F) -> tokio::task::JoinHandle<u32>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut panics = 0;
        loop {
            match tokio::spawn(make()).await {
                Err(err) if err.is_panic() => {
                    panics += 1;
                    tracing::error!(
                        task = name,
                        panics,
                        "background task panicked; starting it again"
                    );
                    let delay = RESTART_DELAY.saturating_mul(1 << (panics - 1).min(16));
                    tokio::time::sleep(delay.min(MAX_RESTART_DELAY)).await;
                }
                _ => return panics,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_panicking_task_is_started_again_until_it_returns() {
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        let handle = spawn_supervised("test", move || {
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("a bug in a background task");
                }
            }
        });
        assert_eq!(
            handle.await.unwrap(),
            2,
            "two panics, then a run that returned"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}
