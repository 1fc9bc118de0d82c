//! The bounded queue of jobs waiting for the executor.
//!
//! New jobs need a place reserved before they are stored ([`JobQueue::try_reserve`]), so a
//! full queue refuses a submit (RESOURCE_EXHAUSTED) without ever storing it; jobs recovered
//! after a restart were accepted already and always get back in ([`JobQueue::push_recovered`]).
//! Memory is bounded by the queue's bound plus what the pipeline holds.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Inner {
    items: VecDeque<String>,
    reserved: usize,
    closed: bool,
}

/// Job ids waiting for the executor, in order.
#[derive(Debug)]
pub struct JobQueue {
    inner: Mutex<Inner>,
    notify: Notify,
    max: usize,
}

/// A place in the queue, held while the job is stored; released if never used.
#[derive(Debug)]
pub struct Reservation {
    queue: Arc<JobQueue>,
    used: bool,
}

impl JobQueue {
    /// A queue holding at most `max` waiting jobs (at least one).
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(JobQueue {
            inner: Mutex::default(),
            notify: Notify::new(),
            max: max.max(1),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The lock guards plain data; a panic while holding it leaves it consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The queue's bound.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Reserves a place for a new job, if the queue has one.
    pub fn try_reserve(self: &Arc<Self>) -> Option<Reservation> {
        let mut inner = self.lock();
        if inner.items.len() + inner.reserved >= self.max {
            return None;
        }
        inner.reserved += 1;
        Some(Reservation {
            queue: self.clone(),
            used: false,
        })
    }

    /// Puts a job accepted before a restart back in line, whatever the bound.
    pub fn push_recovered(&self, job_id: String) {
        self.lock().items.push_back(job_id);
        self.notify.notify_one();
    }

    /// Puts a job that failed transiently back at the end of the line.
    pub fn push_retry(&self, job_id: String) {
        self.push_recovered(job_id);
    }

    /// The next job, waiting for one; `None` once the queue is closed.
    pub async fn pop(&self) -> Option<String> {
        loop {
            let notified = self.notify.notified();
            {
                let mut inner = self.lock();
                if inner.closed {
                    return None;
                }
                if let Some(id) = inner.items.pop_front() {
                    return Some(id);
                }
            }
            notified.await;
        }
    }

    /// The next queued job id, without waiting; `None` when the queue is empty or closed.
    pub fn try_pop(&self) -> Option<String> {
        let mut inner = self.lock();
        if inner.closed {
            return None;
        }
        inner.items.pop_front()
    }

    /// Takes a waiting job out of the line (a cancelled one); whether it was there.
    pub fn remove(&self, job_id: &str) -> bool {
        let mut inner = self.lock();
        let before = inner.items.len();
        inner.items.retain(|id| id != job_id);
        before != inner.items.len()
    }

    /// Stops handing out jobs (those waiting stay stored and resume after a restart).
    pub fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    /// Jobs waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether no job is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Reservation {
    /// Enqueues the stored job in the reserved place.
    pub fn push(mut self, job_id: String) {
        self.used = true;
        let mut inner = self.queue.lock();
        inner.reserved -= 1;
        inner.items.push_back(job_id);
        drop(inner);
        self.queue.notify.notify_one();
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.used {
            self.queue.lock().reserved -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_for_new_jobs_unbounded_for_recovered_ones() {
        let q = JobQueue::new(2);
        let a = q.try_reserve().unwrap();
        let b = q.try_reserve().unwrap();
        assert!(q.try_reserve().is_none(), "full with two reservations");
        drop(b);
        let b = q.try_reserve().expect("an unused reservation is released");
        a.push("a".into());
        b.push("b".into());
        assert!(q.try_reserve().is_none());
        q.push_recovered("r".into());
        assert_eq!(q.len(), 3);
        assert!(q.remove("b"));
        assert!(!q.remove("b"));
        assert!(q.try_reserve().is_none(), "a and r still fill it");
        assert!(q.remove("r"));
        assert!(q.try_reserve().is_some(), "removed jobs free their places");
        q.push_recovered("r".into());
        q.push_recovered("b".into());
        assert_eq!(q.pop().await.as_deref(), Some("a"));
        assert_eq!(q.pop().await.as_deref(), Some("r"));
        assert_eq!(q.pop().await.as_deref(), Some("b"));
        assert!(q.is_empty());
        // A waiting pop wakes for the next job, and for closing.
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.pop().await });
        tokio::task::yield_now().await;
        q.try_reserve().unwrap().push("c".into());
        assert_eq!(waiter.await.unwrap().as_deref(), Some("c"));
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.pop().await });
        tokio::task::yield_now().await;
        q.close();
        assert_eq!(waiter.await.unwrap(), None);
    }
}
