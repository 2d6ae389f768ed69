//! When budgets are checked in a long-running process (`serve`): after every write
//! that can change a period's total (the ledger calls [`BudgetWatch::touch`]),
//! debounced to one check per interval, and on a schedule (time passing moves a
//! projection and starts new periods without any write). A check covers every
//! budget, so each budget is checked at most once per debounce interval.
//!
//! A Lambda keeps no task running: there the collector checks after each
//! collection, and an EventBridge rule sends it `{"action":"check-budgets"}`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::Checker;

/// Default shortest time between two checks caused by writes.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_secs(60);
/// Default time between scheduled checks.
pub const DEFAULT_SCHEDULE: Duration = Duration::from_secs(300);

/// The signal writes raise; one per ledger, shared by its clones.
#[derive(Debug, Default)]
pub struct BudgetWatch {
    wake: Notify,
}

impl BudgetWatch {
    /// A write changed (or may have changed) some period's total. Cheap; several
    /// touches before the next check make one check.
    pub fn touch(&self) {
        self.wake.notify_one();
    }

    /// Checks after writes (at most once per `debounce`; a write during the wait
    /// makes one more check when it ends) and every `schedule`, until the runtime
    /// stops. Restarted if a check panics.
    pub fn start(self: &Arc<Self>, checker: Checker, debounce: Duration, schedule: Duration) {
        let watch = self.clone();
        crate::tasks::spawn_supervised("budget checks", move || {
            let (watch, checker) = (watch.clone(), checker.clone());
            async move {
                loop {
                    let trigger = tokio::select! {
                        _ = watch.wake.notified() => "write",
                        _ = tokio::time::sleep(schedule) => "schedule",
                    };
                    if let Err(err) = checker.check(chrono::Utc::now(), trigger).await {
                        tracing::warn!(error = %err, trigger, "budget check failed; the next write or the schedule retries");
                    }
                    tokio::time::sleep(debounce).await;
                }
            }
        });
    }
}
