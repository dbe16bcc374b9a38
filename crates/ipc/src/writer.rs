//! Writing frames to one connection from many tasks, without a writer task in the
//! common case.
//!
//! A task with a frame to send queues it; if no other task is writing, it becomes the
//! flusher and writes everything queued with non-blocking `writev` calls right away, so
//! a response (or request) usually leaves in the task that produced it, and frames
//! queued meanwhile by other tasks go out together in one system call. Only when the
//! socket's send buffer is full does a background task take over and wait for room.
//!
//! The flusher never awaits while it holds frames, so a task that is cancelled (a
//! client call that timed out) can never leave a half-written frame behind: partial
//! writes stay in the writer until the background task finishes them.
//!
//! Each queued frame carries a token (the server's call permits) that is dropped only
//! once the frame is fully written, so the number of unsent responses stays bounded by
//! the permits.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Buf, Bytes};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{watch, Notify};

/// At most this many frames go into one `writev`.
const MAX_IOV: usize = 64;

/// Called once with the error that broke the connection (not on an orderly close).
pub(crate) type OnFail = Box<dyn Fn(&io::Error) + Send + Sync>;

/// Turns a frame into what goes on the wire instead (SASL WRAP after negotiation). Runs
/// under the queue lock, so frames are sealed in exactly the order they are written —
/// DIGEST-MD5 numbers its messages and the peer checks the sequence.
pub(crate) type Seal = Box<dyn FnMut(&[u8]) -> io::Result<Bytes> + Send>;

pub(crate) struct FrameWriter<T: Send + 'static> {
    state: Mutex<State<T>>,
    /// Only the flusher (`State::flushing`) and teardown touch this.
    sock: Mutex<Sock<T>>,
    /// Give up when a write makes no progress for this long (`None`: never).
    stall: Option<Duration>,
    /// Wakes a background flusher so it sees a close.
    wake: Notify,
    /// Becomes true once the socket's write side is shut down.
    gone: watch::Sender<bool>,
    on_fail: Option<OnFail>,
}

struct State<T> {
    queue: VecDeque<(Bytes, T)>,
    /// A task is writing (or a background task waits for room); others only queue.
    flushing: bool,
    /// Shut the write side down once the queue is written.
    close_when_drained: bool,
    closed: bool,
    seal: Option<Seal>,
}

impl<T> State<T> {
    /// The frame as it goes on the wire; `Err` means sealing failed and the connection
    /// must close.
    fn outgoing(&mut self, frame: Bytes) -> io::Result<Bytes> {
        match self.seal.as_mut() {
            Some(seal) => seal(&frame),
            None => Ok(frame),
        }
    }
}

struct Sock<T> {
    wr: Option<OwnedWriteHalf>,
    /// Frames taken from the queue, the first possibly partly written.
    batch: VecDeque<(Bytes, T)>,
}

/// The connection can take no more frames.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Closed;

enum Flush {
    Done,
    WouldBlock,
}

fn lock<X>(m: &Mutex<X>) -> MutexGuard<'_, X> {
    // Plain data: a panic while holding the lock cannot leave it inconsistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T: Send + 'static> FrameWriter<T> {
    pub(crate) fn new(
        wr: OwnedWriteHalf,
        stall: Option<Duration>,
        on_fail: Option<OnFail>,
    ) -> Arc<Self> {
        Arc::new(FrameWriter {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                flushing: false,
                close_when_drained: false,
                closed: false,
                seal: None,
            }),
            sock: Mutex::new(Sock {
                wr: Some(wr),
                batch: VecDeque::new(),
            }),
            stall,
            wake: Notify::new(),
            gone: watch::channel(false).0,
            on_fail,
        })
    }

    /// Seals every frame queued from now on.
    pub(crate) fn set_seal(&self, seal: Seal) {
        lock(&self.state).seal = Some(seal);
    }

    /// True once the connection was closed or broke: frames are no longer accepted.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Queues a frame and, unless another task is writing, writes it (and whatever else
    /// is queued) now. `token` is dropped once the frame is written (or discarded).
    pub(crate) fn send(self: &Arc<Self>, frame: Bytes, token: T) -> Result<(), Closed> {
        {
            let mut s = lock(&self.state);
            if s.closed || s.close_when_drained {
                return Err(Closed);
            }
            let frame = match s.outgoing(frame) {
                Ok(f) => f,
                Err(e) => {
                    drop(s);
                    self.fail(&e);
                    return Err(Closed);
                }
            };
            s.queue.push_back((frame, token));
            if s.flushing {
                return Ok(());
            }
            s.flushing = true;
        }
        self.flush();
        Ok(())
    }

    /// Queues a last frame, then shuts the write side down once everything is written.
    pub(crate) fn send_and_close(self: &Arc<Self>, frame: Bytes, token: T) {
        {
            let mut s = lock(&self.state);
            if s.closed || s.close_when_drained {
                return;
            }
            let frame = match s.outgoing(frame) {
                Ok(f) => f,
                Err(e) => {
                    drop(s);
                    self.fail(&e);
                    return;
                }
            };
            s.queue.push_back((frame, token));
            s.close_when_drained = true;
            if s.flushing {
                return;
            }
            s.flushing = true;
        }
        self.flush();
    }

    /// Closes now: queued frames are dropped and the write side is shut down (at once,
    /// or by the task writing, when it next looks).
    pub(crate) fn close(&self) {
        let idle = {
            let mut s = lock(&self.state);
            s.closed = true;
            s.queue.clear();
            !s.flushing
        };
        if idle {
            self.teardown();
        } else {
            self.wake.notify_one();
        }
    }

    /// Waits until the write side is shut down.
    pub(crate) async fn closed(&self) {
        let mut rx = self.gone.subscribe();
        let _ = rx.wait_for(|g| *g).await;
    }

    fn teardown(&self) {
        let mut sock = lock(&self.sock);
        sock.batch.clear();
        // Dropping the write half shuts the socket's write direction down (FIN).
        sock.wr = None;
        drop(sock);
        self.gone.send_replace(true);
    }

    fn fail(&self, e: &io::Error) {
        {
            let mut s = lock(&self.state);
            s.closed = true;
            s.queue.clear();
            s.flushing = false;
        }
        self.teardown();
        if let Some(f) = &self.on_fail {
            f(e);
        }
    }

    /// Runs as the flusher; hands over to a background task if the socket is full.
    fn flush(self: &Arc<Self>) {
        match self.flush_now() {
            Ok(Flush::Done) => {}
            Ok(Flush::WouldBlock) => {
                let me = self.clone();
                tokio::spawn(async move { me.flush_when_writable().await });
            }
            Err(e) => self.fail(&e),
        }
    }

    /// Writes until the queue is empty (`Done`, flusher role released) or the socket is
    /// full (`WouldBlock`, role kept). Never blocks.
    fn flush_now(&self) -> io::Result<Flush> {
        let mut sock = lock(&self.sock);
        loop {
            if sock.batch.is_empty() {
                let mut s = lock(&self.state);
                if s.closed {
                    s.flushing = false;
                    drop(s);
                    drop(sock);
                    self.teardown();
                    return Ok(Flush::Done);
                }
                if s.queue.is_empty() {
                    s.flushing = false;
                    let close = s.close_when_drained;
                    if close {
                        s.closed = true;
                    }
                    drop(s);
                    drop(sock);
                    if close {
                        self.teardown();
                    }
                    return Ok(Flush::Done);
                }
                let n = s.queue.len().min(MAX_IOV);
                sock.batch.extend(s.queue.drain(..n));
            }
            let Some(wr) = sock.wr.as_ref() else {
                return Err(io::Error::new(io::ErrorKind::NotConnected, "closed"));
            };
            let written = {
                let mut slices = [IoSlice::new(&[]); MAX_IOV];
                let mut n = 0;
                for ((b, _), slot) in sock.batch.iter().zip(slices.iter_mut()) {
                    *slot = IoSlice::new(b);
                    n += 1;
                }
                match wr.try_write_vectored(&slices[..n]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(Flush::WouldBlock)
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            let mut left = written;
            while left > 0 {
                let front = &mut sock.batch.front_mut().expect("wrote more than queued").0;
                if front.len() <= left {
                    left -= front.len();
                    sock.batch.pop_front();
                } else {
                    front.advance(left);
                    left = 0;
                }
            }
        }
    }

    /// The background flusher: waits for room in the socket's send buffer (at most
    /// `stall` without progress), then writes on.
    async fn flush_when_writable(self: Arc<Self>) {
        loop {
            if self.is_closed() {
                lock(&self.state).flushing = false;
                self.teardown();
                return;
            }
            let ready = poll_fn(|cx| match lock(&self.sock).wr.as_ref() {
                Some(wr) => wr.as_ref().poll_write_ready(cx),
                None => std::task::Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
            });
            let waited = async {
                match self.stall {
                    Some(stall) => tokio::time::timeout(stall, ready).await.map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("the peer read nothing for {stall:?}"),
                        )
                    })?,
                    None => ready.await,
                }
            };
            let r = tokio::select! {
                r = waited => r,
                _ = self.wake.notified() => Ok(()),
            };
            if let Err(e) = r {
                if !self.is_closed() {
                    self.fail(&e);
                }
                continue;
            }
            if self.is_closed() {
                continue;
            }
            match self.flush_now() {
                Ok(Flush::Done) => return,
                Ok(Flush::WouldBlock) => {}
                Err(e) => {
                    self.fail(&e);
                    return;
                }
            }
        }
    }
}
