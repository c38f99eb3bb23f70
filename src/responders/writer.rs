//! Group commit for position reports: requests hand their fixes to one writer task, which writes everything that
//! has queued up in one transaction and only then acknowledges each request. Throughput comes from batching, not
//! from skipping the disk: an acknowledged fix is stored. On shutdown the task drains its queue before it ends.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::PositionFix;
use super::ResponderStore;
use crate::store_error::StoreError;

/// Most fixes written in one transaction.
const MAX_BATCH: usize = 50_000;

/// Why a batch was not written: the message, and whether the database was unreachable.
#[derive(Debug, Clone)]
struct Failed(String, bool);

struct Job {
    fixes: Vec<PositionFix>,
    done: oneshot::Sender<Result<(), Failed>>,
}

/// Handle to the writer task.
#[derive(Debug, Clone)]
pub struct PositionWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({} fixes)", self.fixes.len())
    }
}

/// The writer task, to [`finish`](WriterTask::finish) on shutdown. Dropping it leaves the task running until every
/// [`PositionWriter`] is dropped.
#[derive(Debug)]
pub struct WriterTask {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl WriterTask {
    /// Stops taking fixes, writes and acknowledges what is queued, and waits for the task to end. Handles still held
    /// elsewhere (the services live on in background tasks) then fail to queue with "the position writer has
    /// stopped".
    pub async fn finish(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the position writer task failed");
        }
    }
}

impl PositionWriter {
    /// Starts the writer; `committed` runs after each successful transaction with the fixes it wrote.
    pub fn spawn(
        store: Arc<dyn ResponderStore>,
        committed: impl Fn(&[PositionFix]) + Send + 'static,
    ) -> (Self, WriterTask) {
        let (tx, mut rx) = mpsc::channel::<Job>(1024);
        let (stop, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut stop_rx = Some(stop_rx);
            loop {
                let next = match stop_rx.as_mut() {
                    Some(stopped) => tokio::select! {
                        job = rx.recv() => job,
                        asked = stopped => {
                            stop_rx = None;
                            // Asked to stop: queued jobs are still received, new ones refused. A dropped
                            // WriterTask asks nothing.
                            if asked.is_ok() {
                                rx.close();
                            }
                            continue;
                        }
                    },
                    None => rx.recv().await,
                };
                let Some(first) = next else { break };
                let mut jobs = vec![first];
                let mut n = jobs[0].fixes.len();
                while n < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => {
                            n += job.fixes.len();
                            jobs.push(job);
                        }
                        Err(_) => break,
                    }
                }
                let all: Vec<PositionFix> = jobs.iter().flat_map(|j| j.fixes.iter().copied()).collect();
                let result = store.record_positions(&all).await;
                if result.is_ok() {
                    committed(&all);
                }
                let outcome = result.map_err(|e| Failed(e.to_string(), e.is_unavailable()));
                if let Err(Failed(e, _)) = &outcome {
                    tracing::error!(error = %e, fixes = all.len(), "writing positions failed");
                }
                for job in jobs {
                    let _ = job.done.send(outcome.clone());
                }
            }
            tracing::debug!("position writer drained and stopped");
        });
        (Self { jobs: tx }, WriterTask { stop, task })
    }

    /// Queues fixes and waits until they are committed.
    pub async fn write(&self, fixes: Vec<PositionFix>) -> Result<(), StoreError> {
        let (done, ack) = oneshot::channel();
        let closed = || StoreError::Background("the position writer has stopped".into());
        self.jobs.send(Job { fixes, done }).await.map_err(|_| closed())?;
        ack.await.map_err(|_| closed())?.map_err(|Failed(e, unavailable)| {
            if unavailable { StoreError::Unavailable(e) } else { StoreError::Background(e) }
        })
    }
}
