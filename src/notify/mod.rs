//! Notifications (`[[notify]]`): webhooks told of a run's events, a consumer of the
//! engine's events like the journal and the display.
//!
//! Delivery must never cost the run anything, so:
//!
//! - **Off the critical path.** The run only puts a message in a webhook's queue
//!   (`try_send`, never waiting); a task per webhook POSTs the queue's messages one after
//!   the other. A webhook that hangs holds up only its own queue.
//! - **Bounded.** Each POST has [`TIMEOUT`]; a queue holds [`QUEUE`] messages, and a
//!   message that finds its queue full is not sent (and that is journaled). There are
//!   no retries: a chat server that is down gets one request per event, never a storm.
//! - **Journaled.** Every delivery and every failure is an `notified` event in the
//!   journal, recorded by whoever the run hands in ([`Journal`]), the moment it is
//!   known. The messages of the run's end are delivered after `run_finished`: the run
//!   waits at most [`TIMEOUT`] for them, and journals each result after that event.
//! - **Nothing secret written.** The URL, which may hold a token, is shown only as its
//!   scheme and host (`https://chat.example/…`), and error texts go through the run's
//!   redactor.

mod deliver;
pub mod message;
pub mod webhook;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::Event;
use crate::engine::secrets::Redactor;
pub use message::{Context, Message};
pub use webhook::Webhook;

/// How long one POST may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How many messages may wait for one webhook.
pub const QUEUE: usize = 64;

/// Records an event in the run's journal; called from the delivery tasks.
pub type Journal = Arc<dyn Fn(Event) + Send + Sync>;

/// The webhooks of one run and their delivery tasks.
pub struct Notifier {
    ctx: Arc<Context>,
    queues: Vec<(Arc<Webhook>, mpsc::Sender<Message>)>,
    tasks: Vec<JoinHandle<()>>,
    ending: Arc<deliver::Ending>,
    journal: Journal,
}

impl Notifier {
    /// Starts a delivery task per webhook on `runtime`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        ctx: Context,
        webhooks: Vec<Webhook>,
        redactor: Arc<Redactor>,
        journal: Journal,
    ) -> Result<Notifier, String> {
        let client = deliver::client()?;
        let ctx = Arc::new(ctx);
        let ending = Arc::new(deliver::Ending::default());
        let mut queues = Vec::new();
        let mut tasks = Vec::new();
        for hook in webhooks {
            let hook = Arc::new(hook);
            let (tx, rx) = mpsc::channel(QUEUE);
            let courier = deliver::Courier {
                hook: hook.clone(),
                client: client.clone(),
                ctx: ctx.clone(),
                ending: ending.clone(),
                redactor: redactor.clone(),
                journal: journal.clone(),
            };
            tasks.push(runtime.spawn(courier.run(rx)));
            queues.push((hook, tx));
        }
        Ok(Notifier {
            ctx,
            queues,
            tasks,
            ending,
            journal,
        })
    }

    /// What the webhooks would be told of `e`, if any of them is told of it.
    pub fn message(&self, e: &Event) -> Option<Message> {
        let m = message::of(&self.ctx, e)?;
        self.queues
            .iter()
            .any(|(hook, _)| hook.events.contains(&m.event))
            .then_some(m)
    }

    /// Queues `m` for every webhook told of its event, without waiting: a full queue
    /// costs the message (journaled), never the run's time.
    pub fn send(&self, m: &Message) {
        for (hook, tx) in &self.queues {
            if !hook.events.contains(&m.event) {
                continue;
            }
            let why = match tx.try_send(m.clone()) {
                Ok(()) => continue,
                Err(mpsc::error::TrySendError::Full(_)) => format!(
                    "not sent: {QUEUE} notifications already wait for this webhook (it is slow or does not answer)"
                ),
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    "not sent: this webhook's delivery task has stopped".to_string()
                }
            };
            (self.journal)(deliver::failed(hook, m.event, why, Duration::ZERO));
        }
    }

    /// Lets the queued messages go out for at most [`TIMEOUT`] more, then journals what
    /// could not be sent, and returns once every delivery task has ended.
    pub fn finish(self, runtime: &tokio::runtime::Runtime) {
        self.ending.begin(Instant::now() + TIMEOUT);
        drop(self.queues);
        runtime.block_on(async {
            for task in self.tasks {
                // A task that panicked has nothing more to journal.
                let _ = tokio::time::timeout(TIMEOUT + Duration::from_secs(1), task).await;
            }
        });
    }
}
