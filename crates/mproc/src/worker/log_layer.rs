//! A `tracing` layer that sends a worker's events to the parent as log frames.

use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use super::WorkerOutbox;
use crate::log_bridge::level_number;
use crate::protocol::{LogRecord, Reply};

/// Installs the frame-forwarding subscriber, filtered by `filter`.
pub(super) fn install(filter: &str, outbox: Arc<WorkerOutbox>) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(FrameLayer { outbox }.with_filter(filter))
        .try_init();
}

struct FrameLayer {
    outbox: Arc<WorkerOutbox>,
}

impl<S: Subscriber> Layer<S> for FrameLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        self.outbox.send_later(&Reply::Log(LogRecord {
            level: level_number(meta.level()),
            target: meta.target().to_string(),
            message: text.0,
        }));
    }
}

/// The message first, then every other field as ` key=value`.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}
