//! The thread that owns the SQLite connection, and how it batches work.
//!
//! One connection serves every request, on one thread fed by a queue, instead of a mutex
//! taken from tokio's blocking pool: under load the pool grew hundreds of threads that took
//! turns on the mutex. The thread drains everything queued and then
//!
//! 1. runs the reads, then
//! 2. runs the writes in **one** transaction, each inside its own savepoint (a write that fails
//!    or asks to be undone rolls back alone), commits once, and only then answers each writer.
//!
//! One commit for many turns is what makes a busy server fast (group commit). Reads may run
//! before writes queued ahead of them: a writer has not been answered yet, so nobody can
//! have seen its result, and nothing read can depend on it (a conversation's next turn is
//! queued only after its previous commit was answered). So every answer is still linearizable.

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::super::StoreError;

/// At most this many jobs in one batch, so one busy moment cannot delay its first writer
/// behind an unbounded transaction.
const MAX_BATCH: usize = 512;

/// A read: runs on the connection and answers its caller itself.
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
/// A write: runs inside a savepoint and says what to keep and how to answer. Given no
/// connection (its group's transaction could not start), it runs nothing and only answers.
type WriteJob = Box<dyn FnOnce(Option<&Connection>) -> Written + Send>;
/// Answers a writer once the group's commit is known (`Err`: the commit failed).
type Answer = Box<dyn FnOnce(Result<(), String>) + Send>;

pub(super) enum Job {
    Read(ReadJob),
    Write(WriteJob),
}

/// What a write did inside its savepoint.
pub(super) struct Written {
    /// `false` undoes the write's statements (its savepoint is rolled back).
    keep: bool,
    answer: Answer,
}

/// The queue into the connection's thread. Dropping every clone stops the thread, which
/// closes the connection.
#[derive(Clone)]
pub(super) struct Worker {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Worker {
    /// Starts the thread with a connection made by `open` on that thread.
    pub(super) async fn start<F>(open: F) -> Result<Worker, StoreError>
    where
        F: FnOnce() -> Result<Connection, StoreError> + Send + 'static,
    {
        let (jobs, queue) = mpsc::unbounded_channel();
        let (opened, ready) = oneshot::channel();
        std::thread::Builder::new()
            .name("chatflow-sqlite".into())
            .spawn(move || match open() {
                Ok(conn) => {
                    let _ = opened.send(Ok(()));
                    serve_jobs(&conn, queue);
                }
                Err(e) => {
                    let _ = opened.send(Err(e));
                }
            })
            .map_err(|e| StoreError::Worker(e.to_string()))?;
        ready.await.map_err(|_| stopped())??;
        Ok(Worker { jobs })
    }

    /// Runs `f` as a read and returns its answer.
    pub(super) async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.jobs.send(Job::Read(job)).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Runs `f` as a write and answers after its group committed. `f` returns its result
    /// and whether to keep what it wrote; an `Err` from `f` undoes its statements.
    pub(super) async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<(R, bool), StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R, StoreError>>();
        let job: WriteJob = Box::new(move |conn| match conn.map(f) {
            None => Written {
                keep: false,
                answer: Box::new(move |committed| {
                    let why = committed.err().unwrap_or_default();
                    let _ = tx.send(Err(StoreError::Commit(why)));
                }),
            },
            Some(Ok((value, keep))) => Written {
                keep,
                answer: Box::new(move |committed| {
                    let _ = tx.send(committed.map(|()| value).map_err(StoreError::Commit));
                }),
            },
            Some(Err(e)) => Written {
                keep: false,
                answer: Box::new(move |_| {
                    let _ = tx.send(Err(e));
                }),
            },
        });
        self.jobs.send(Job::Write(job)).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Worker("the store's thread stopped".into())
}

/// The thread's loop: until every sender is gone, take what is queued and run it.
fn serve_jobs(conn: &Connection, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut reads: Vec<ReadJob> = Vec::new();
    let mut writes: Vec<WriteJob> = Vec::new();
    while let Some(first) = queue.blocking_recv() {
        let mut next = Some(first);
        while let Some(job) = next {
            match job {
                Job::Read(r) => reads.push(r),
                Job::Write(w) => writes.push(w),
            }
            next = if reads.len() + writes.len() < MAX_BATCH {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        for read in reads.drain(..) {
            read(conn);
        }
        if !writes.is_empty() {
            write_group(conn, writes.drain(..));
        }
    }
}

/// Runs `writes` in one transaction, each in a savepoint, and answers each after the commit.
/// A write alone has the transaction to itself and no savepoint: it is undone by rolling the
/// transaction back. Under a burst most groups are one write (the thread commits faster than
/// turns arrive), and the savepoint's statements and its copy of every page the write
/// changes were a measurable part of the thread's work.
fn write_group(conn: &Connection, writes: impl ExactSizeIterator<Item = WriteJob>) {
    let savepoints = writes.len() > 1;
    let mut answers: Vec<Answer> = Vec::new();
    let mut undo_all = false;
    let mut failed = exec(conn, "BEGIN IMMEDIATE").err();
    for write in writes {
        if failed.is_none() && savepoints {
            failed = exec(conn, "SAVEPOINT turn").err();
        }
        if failed.is_some() {
            answers.push(write(None).answer);
            continue;
        }
        let written = write(Some(conn));
        if savepoints {
            let undone = if written.keep {
                Ok(0)
            } else {
                exec(conn, "ROLLBACK TO turn")
            };
            if let Err(e) = undone.and_then(|_| exec(conn, "RELEASE turn")) {
                failed = Some(e);
            }
        } else {
            undo_all = !written.keep;
        }
        answers.push(written.answer);
    }
    let end = if undo_all { "ROLLBACK" } else { "COMMIT" };
    let committed = match failed {
        None => exec(conn, end).map(|_| ()).map_err(|e| e.to_string()),
        Some(e) => Err(e.to_string()),
    };
    if committed.is_err() && !conn.is_autocommit() {
        // Nothing of this group may stay; the next group starts clean.
        let _ = exec(conn, "ROLLBACK");
    }
    for answer in answers {
        answer(committed.clone());
    }
}

/// Runs one statement from the connection's statement cache: these run for every turn, and
/// preparing them anew each time was a measurable part of a turn's cost.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute([])
}
