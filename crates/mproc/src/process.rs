//! [`Process`]: one job in one child process, like Python's
//! `multiprocessing.Process`.
//!
//! The child is a worker like a pool's: it gets one item, runs it, sends
//! the result back and exits. `exit_code` follows Python: 1 after an error
//! or a panic, the code passed to `exit`, minus the signal number when
//! killed by one. Dropping a `Process` kills a child that is
//! still running, so join it first to let it finish.

use std::marker::PhantomData;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde::de::DeserializeOwned;

use crate::child::WorkerCommand;
use crate::connection::{ConnConfig, ConnEvent, Connection};
use crate::error::Result;
use crate::job::Job;
use crate::outcome::{Exit, Outcome};
use crate::pool::task::{Report, RunInfo};
use crate::protocol::{self, Done, Request};
use crate::settings::PoolSettings;

/// One child process running one job.
pub struct Process<O> {
    conn: Connection,
    events: Receiver<ConnEvent>,
    pid: u32,
    reported_pid: Option<u32>,
    done: Option<Done>,
    /// The job failed or panicked (Python's exit code 1 after an exception).
    job_failed: bool,
    exit: Option<Exit>,
    detail: Option<String>,
    output: PhantomData<fn() -> O>,
}

impl<O: DeserializeOwned> Process<O> {
    /// Starts this executable as a child that runs `job` on `input`.
    pub fn start<J: Job<Output = O>>(job: &J, input: J::Input) -> Result<Process<O>> {
        Process::start_with(WorkerCommand::current_exe()?, job, input)
    }

    /// Like [`start`](Process::start), running another worker program.
    pub fn start_program<J: Job<Output = O>>(
        program: impl Into<std::path::PathBuf>,
        job: &J,
        input: J::Input,
    ) -> Result<Process<O>> {
        Process::start_with(WorkerCommand::program(program), job, input)
    }

    fn start_with<J: Job<Output = O>>(
        command: WorkerCommand,
        job: &J,
        input: J::Input,
    ) -> Result<Process<O>> {
        crate::worker::refuse_nested_start("Process::start");
        // Encoded first: what no worker would accept fails here, before a
        // child starts.
        let (job_value, input) = (protocol::encode(job)?, protocol::encode(&input)?);
        for (what, bytes) in [("job value", &job_value), ("input", &input)] {
            if let Some(why) = crate::pool::task::over_request_limit(what, bytes.len()) {
                return Err(crate::error::Error::protocol(why));
            }
        }
        let config = ConnConfig::new(&PoolSettings::default(), vec![command]);
        let (tx, events) = mpsc::channel();
        let mut conn = Connection::start(
            &config,
            0,
            Box::new(move |e| {
                let _ = tx.send(e);
            }),
        )?;
        let mut frames = Vec::new();
        let spec = crate::pool::task::JobSpec {
            key: 0,
            name: J::NAME.to_string(),
            config: job_value,
        };
        spec.append_setup(&mut frames)?;
        let run = Request::Run {
            key: 0,
            chunk: 0,
            count: 1,
            inputs: input.into(),
        };
        protocol::append_frame(&mut frames, &run)?;
        conn.send(frames);
        conn.close_input();
        let pid = conn.pid();
        Ok(Process {
            conn,
            events,
            pid,
            reported_pid: None,
            done: None,
            job_failed: false,
            exit: None,
            detail: None,
            output: PhantomData,
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.reported_pid.unwrap_or(self.pid)
    }

    fn absorb(&mut self, event: ConnEvent) {
        match event {
            ConnEvent::Ready(hello, _) => self.reported_pid = Some(hello.pid),
            ConnEvent::Done(batch) => {
                // A Done that does not add up is no result: the child
                // then ends as it ends, and that is its outcome.
                if let Some(done) = batch.into_iter().next().filter(Done::is_consistent) {
                    self.job_failed = !done.failures.is_empty();
                    self.done = Some(done);
                }
            }
            // A process is never asked to give items back.
            ConnEvent::Taken { .. } => {}
            ConnEvent::Gone { exit, error } => {
                self.exit = Some(exit);
                self.detail = error.map(|e| e.to_string());
            }
        }
    }

    /// True while the child has not ended.
    pub fn is_alive(&mut self) -> bool {
        while let Ok(e) = self.events.try_recv() {
            self.absorb(e);
        }
        self.exit.is_none()
    }

    /// Waits for the child to end (at most `timeout`); returns how it
    /// ended, or `None` if it is still running.
    pub fn join(&mut self, timeout: Option<Duration>) -> Option<Exit> {
        let deadline = timeout.map(|t| Instant::now() + t);
        while self.exit.is_none() {
            let event = match deadline {
                None => self
                    .events
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                Some(d) => self
                    .events
                    .recv_timeout(d.saturating_duration_since(Instant::now())),
            };
            match event {
                Ok(e) => self.absorb(e),
                Err(_) => break,
            }
        }
        self.exit
    }

    /// Python's `exitcode`: `None` while running; 1 when the job returned
    /// an error or panicked (Python's 1 after an exception); else the code
    /// the child exited with (the code a job passed to
    /// `std::process::exit`), or minus the signal that killed it.
    pub fn exit_code(&mut self) -> Option<i32> {
        self.is_alive();
        self.exit.map(|exit| match exit {
            Exit::Code(0) if self.job_failed => 1,
            other => other.python_code(),
        })
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.conn.signal(Signal::SIGTERM);
    }

    /// Sends SIGKILL.
    pub fn kill(&self) {
        self.conn.kill();
    }

    /// How the job ended, once the child has ended: its value, error or
    /// panic, or a crash if the child died first.
    pub fn outcome(&mut self) -> Option<Outcome<O>> {
        self.is_alive();
        let exit = self.exit?;
        Some(match self.done.take() {
            Some(done) => {
                let report = Report {
                    first: 0,
                    count: 1,
                    outputs: done.outputs,
                    ends: done.ends,
                    failures: done
                        .failures
                        .into_iter()
                        .map(|(o, f)| (o, Outcome::from(f)))
                        .collect(),
                    run: RunInfo::default(),
                    times: Vec::new(),
                    attempts: 1,
                    earlier: Default::default(),
                    decoded: None,
                };
                report
                    .into_results::<O>()
                    .next()
                    .map(|r| r.outcome)
                    .unwrap_or_else(|| Outcome::Failed("the child sent no result".into()))
            }
            None => Outcome::Crashed {
                exit: Some(exit),
                detail: self.detail.clone(),
            },
        })
    }
}
