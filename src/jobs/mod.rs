//! The built-in jobs, and the one table that makes them commands.
//!
//! Each job lives in its own file: the [`Job`] itself (one input to one
//! output, knowing nothing of pipes, processes or the command line), and its
//! `Builtin` side: the subcommand's arguments, how they become the job
//! and its inputs, and its human report. `TABLE` lists them; the command
//! line's `pool` subcommands, the worker registry and the reports all read
//! it. Adding a job is its file plus one line here (see
//! `docs/ARCHITECTURE.md`).

use std::marker::PhantomData;

use mproc::{ItemResult, Job, Registry, Result};

pub(crate) use crate::inputs::Inputs;
pub(crate) use crate::options::Call;
use crate::options::OutputFormat;
use crate::report::Summary;

pub(crate) mod analyze;
pub(crate) mod chaos;
#[cfg(feature = "excel")]
pub(crate) mod excel;
#[cfg(feature = "fetch")]
pub(crate) mod fetch;
pub(crate) mod isolation;
pub(crate) mod load;
pub(crate) mod run;
pub(crate) mod square;

pub(crate) use analyze::Analyze;
pub use chaos::{Chaos, ChaosResult};
#[cfg(feature = "excel")]
pub(crate) use excel::ExcelSum;
#[cfg(feature = "fetch")]
pub use fetch::Fetch;
pub(crate) use isolation::Isolation;
pub(crate) use load::Load;
pub(crate) use run::Run;
pub use square::Square;

/// Every built-in pool job, in the order `mproc pool --help` lists them.
pub(crate) const TABLE: &[&dyn Entry] = &[
    &Of::<Square>::ENTRY,
    &Of::<Load>::ENTRY,
    &Of::<Chaos>::ENTRY,
    &Of::<Analyze>::ENTRY,
    &Of::<Run>::ENTRY,
    #[cfg(feature = "excel")]
    &Of::<ExcelSum>::ENTRY,
    #[cfg(feature = "fetch")]
    &Of::<Fetch>::ENTRY,
];

/// The jobs a worker of the `mproc` binary can run: the table's, and the
/// `process` demo's.
pub(crate) fn registry() -> Registry {
    TABLE
        .iter()
        .fold(Registry::new().register::<Isolation>(), |r, e| {
            e.register(r)
        })
}

/// The names of the built-in pool jobs (`mproc pool NAME`), in the
/// table's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|e| e.name())
}

/// The table entry of the job named `name`.
pub(crate) fn find(name: &str) -> Option<&'static dyn Entry> {
    TABLE.iter().copied().find(|e| e.name() == name)
}

/// A built-in job as the command line sees it.
pub(crate) trait Builtin: Job<Input: Clone> + Sized {
    /// The subcommand's arguments (a clap `Args` struct).
    type Args: clap::Args + clap::FromArgMatches + Send + 'static;
    /// The subcommand's one-line help.
    const ABOUT: &'static str;
    /// What the human report keeps of each result: the whole
    /// [`ItemResult`], or less for jobs with many small items (square keeps
    /// its value alone), so a long map stays small in memory.
    type Row: Send;

    /// The row kept of one result.
    fn row(result: ItemResult<Self::Output>) -> Self::Row;

    /// The row of a result that ended ok with a value, for a job whose
    /// results need nothing but their row in a plain human run (no job
    /// log, bar, `--halt`, timeline or totals): it has no
    /// [`Builtin::arrived`] and no [`Builtin::line`] to see. Its ok values
    /// are then taken in bulk ([`mproc::Results::next_values`]), a million
    /// in a few milliseconds. `None` (the default): every result goes
    /// through [`Builtin::row`] and all that watches results.
    const VALUE_ROW: Option<fn(Self::Output) -> Self::Row> = None;

    /// The job and its inputs, made before the pool starts; an error
    /// refuses the whole run (exit 2).
    fn plan(args: Self::Args, context: &Context) -> Result<Plan<Self>>;

    /// The human report of a finished run, for stdout.
    fn report(plan: &Report<'_, Self>) -> String;

    /// Hands the human report to `print` in pieces, in order. By default
    /// one piece, [`Builtin::report`]; a job whose report can be large
    /// writes it as it formats it, so it is never whole in memory.
    fn report_to(plan: &Report<'_, Self>, print: &mut dyn FnMut(&[u8])) {
        print(Self::report(plan).as_bytes());
    }

    /// In the `imap` and `imap-unordered` modes, the human output of one
    /// result, printed as it arrives, as Python's `for r in
    /// pool.imap(...): print(r)` does (a job whose report is a table of
    /// all rows keeps `None`, the default, and prints at the end).
    fn line(result: &ItemResult<Self::Output>, input: &Self::Input) -> Option<String> {
        let _ = (result, input);
        None
    }

    /// The input as the job log's input column keeps it, exactly, and as
    /// `--resume` matches it. By default a string's or path's bytes, else
    /// compact JSON.
    fn log_input(input: &Self::Input) -> Vec<u8> {
        crate::joblog::input_bytes(input)
    }

    /// Sees each result as it arrives, before it is counted, logged or
    /// printed (in input order, or as items finish with
    /// `imap-unordered`). A job that streams its output prints it here
    /// (with human output), and may take what it printed out of the result
    /// so a long run stays flat in memory. It may reword a failure; what it
    /// returns is added to the item's JSON record. By default: nothing.
    fn arrived(
        result: &mut ItemResult<Self::Output>,
        input: &Self::Input,
        output: OutputFormat,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let _ = (result, input, output);
        None
    }

    /// How an item's command ended, as GNU parallel's job log records it
    /// (`Exitval`, `Signal`), read before [`Builtin::arrived`]; `None`
    /// (the default) for a job with no command, or an item never run.
    fn exit_of(result: &ItemResult<Self::Output>) -> Option<(i32, i32)> {
        let _ = result;
        None
    }

    /// The item's sequence number, by which GNU parallel's job log and
    /// `--resume` know it (`None`, the default: the input is the key).
    fn log_seq(input: &Self::Input) -> Option<u64> {
        let _ = input;
        None
    }

    /// The command line an input runs, for GNU parallel's job log.
    fn command_line(&self, input: &Self::Input) -> Option<Vec<u8>> {
        let _ = input;
        None
    }

    /// The exit status of a run with failures (`None`, the default: 1);
    /// `halted_by` is how the item that halted the run (`--halt`) ended.
    fn status(summary: &Summary, halted_by: Option<i32>) -> Option<u8> {
        let _ = (summary, halted_by);
        None
    }

    /// A fresh accumulator of the run's totals (see [`Totals`]), or `None`,
    /// the default, for a job without totals.
    fn totals() -> Option<Box<dyn Totals<Self::Output>>> {
        None
    }
}

/// A job's totals over a run (analyze's TOTAL row, excel's grand total,
/// load's sum), summed one result at a time as results arrive, so that
/// `--json` and `--jsonl`, which keep no rows, carry them too (their
/// `totals` object, `docs/OUTPUT.md`). A job's human report sums its rows
/// with the same type, so the report and the JSON cannot disagree.
pub(crate) trait Totals<O> {
    /// Counts one result, whatever its outcome.
    fn add(&mut self, result: &ItemResult<O>);
    /// The totals so far, as the JSON `totals` object.
    fn to_json(&self) -> serde_json::Value;
}

/// What a job's plan may depend on besides its arguments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    /// Worker processes the pool will start (0 with `--serial`).
    pub processes: usize,
    /// Items at once inside each worker.
    pub concurrency: u32,
}

/// A job and the inputs to run it on.
pub(crate) struct Plan<J: Job> {
    /// The job value, sent once to each worker.
    pub job: J,
    /// One item each: a list, or a stream read as the run goes.
    pub inputs: Inputs<J::Input>,
}

/// What a human report is made of.
pub(crate) struct Report<'a, J: Builtin> {
    /// Every input of the run (also those `--resume` skipped); for a
    /// stream, every input read.
    pub inputs: &'a [J::Input],
    /// The rows kept of the results ([`Builtin::row`]), in input order
    /// (or arrival order with `imap-unordered`).
    pub results: &'a [J::Row],
    /// Counts and times.
    pub summary: &'a Summary,
    /// Each result's [`Builtin::line`] was printed as it came (`imap`
    /// modes); `results` holds only those that had none.
    pub streamed: bool,
    /// What the plan was made with.
    pub context: Context,
}

/// A table entry: a `Builtin` job with its types erased.
pub(crate) trait Entry: Sync {
    /// The subcommand's (and the job's) name.
    fn name(&self) -> &'static str;
    /// The subcommand, with its arguments.
    fn command(&self) -> clap::Command;
    /// Adds the job to a worker registry.
    fn register(&self, registry: Registry) -> Registry;
    /// Reads the subcommand's arguments.
    fn parse(&self, matches: &clap::ArgMatches) -> std::result::Result<Box<dyn Call>, clap::Error>;
}

/// The table entry of job `J`.
pub(crate) struct Of<J>(PhantomData<fn() -> J>);

impl<J> Of<J> {
    /// The entry.
    pub(crate) const ENTRY: Of<J> = Of(PhantomData);
}

impl<J: Builtin> Entry for Of<J> {
    fn name(&self) -> &'static str {
        J::NAME
    }

    fn command(&self) -> clap::Command {
        <J::Args as clap::Args>::augment_args(clap::Command::new(J::NAME)).about(J::ABOUT)
    }

    fn register(&self, registry: Registry) -> Registry {
        registry.register::<J>()
    }

    fn parse(&self, matches: &clap::ArgMatches) -> std::result::Result<Box<dyn Call>, clap::Error> {
        let args = <J::Args as clap::FromArgMatches>::from_arg_matches(matches)?;
        Ok(Box::new(Args::<J>(args)))
    }
}

/// The parsed arguments of job `J`.
pub(crate) struct Args<J: Builtin>(pub(crate) J::Args);

impl<J: Builtin> std::fmt::Debug for Args<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} job", J::NAME)
    }
}
