//! Publishing a verified batch: every message accepted by the queue, or an error.
//!
//! The queue is behind a small trait so that the batching, concurrency and retry
//! rules below can be tested with a fake; [`sqs`] is the real implementation.
//!
//! How a batch is sent ([`publish`]):
//!
//! 1. Every message is measured the way SQS counts it; one that could never fit is a
//!    permanent failure ([`PublishErrorKind::MessageTooLarge`]), and nothing is sent.
//! 2. The messages are laid into calls of at most [`MAX_BATCH`] entries and
//!    [`sqs::MAX_PAYLOAD_BYTES`] bytes. The messages of one unit (same
//!    `ordering_key`) go, in the request's order, into consecutive calls of one
//!    *chain*: sent one after another, each only once the one before is confirmed
//!    (its refused entries resent). On a FIFO queue a call holds at most one
//!    message of each unit, so that the unit's changes reach it in order even when
//!    SQS refuses one entry of a call and stores the others; on a standard queue,
//!    which keeps no order, a unit's messages share calls.
//! 3. Chains are sent concurrently, at most [`PublishPolicy::concurrency`] calls in
//!    flight; entries refused as retryable are resent, the whole within
//!    [`PublishPolicy::deadline`].

pub mod memory;
pub mod sqs;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{StreamExt, stream};

use org_change_core::{GroupBy, Outgoing};

/// On a FIFO queue, the most messages of one group in one request that go one per
/// call ([`Limits::fifo`]): 20 calls in a row take about 1 s at SQS's 20–50 ms a call.
/// A larger group is packed ten to a call, so that the request is still acknowledged
/// in time. Its order then breaks only if SQS refuses one entry of a call and stores
/// a later one of the same group from it.
pub const MAX_CHANGES_ONE_PER_CALL: usize = 20;

/// How long the relay waits for SQS before answering 503: inside the platforms'
/// 3-second deadline, whatever the SDK is doing (`docs/protocol.md`, "Delivery and
/// retries").
pub const ENQUEUE_DEADLINE: Duration = Duration::from_millis(2_500);

/// SQS accepts at most ten entries per `SendMessageBatch`.
pub const MAX_BATCH: usize = sqs::MAX_ENTRIES;

/// How many `SendMessageBatch` calls of one request may be in flight at once. A
/// Feilian request of 1,000 changes is 100 calls: one after another they do not fit
/// in the platforms' 3 seconds (`docs/operations.md`, "Large requests and large messages").
pub const MAX_CALLS_IN_FLIGHT: usize = 10;

/// What one call may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries per call.
    pub entries: usize,
    /// Bytes per message, and per call for all its messages together, as
    /// [`Queue::payload_size`] counts them.
    pub bytes: usize,
    /// For a queue that keeps each message group in order (FIFO), how messages are
    /// grouped. A call then holds at most one message of each group, so that a
    /// refused entry, resent, is never overtaken by a later one of its group (`plan`).
    pub fifo: Option<GroupBy>,
}

impl Limits {
    /// SQS's, with the relay's margin ([`sqs::MAX_PAYLOAD_BYTES`]), for a standard
    /// queue, which keeps no order.
    pub const SQS: Limits = Limits {
        entries: sqs::MAX_ENTRIES,
        bytes: sqs::MAX_PAYLOAD_BYTES,
        fifo: None,
    };

    /// SQS's for a FIFO queue grouped `by`: one message of each group per call.
    pub const fn sqs_fifo(by: GroupBy) -> Limits {
        Limits {
            fifo: Some(by),
            ..Limits::SQS
        }
    }

    /// The unit whose messages keep their order in `plan`: the message group on a
    /// FIFO queue, else the changed unit.
    fn unit_of(self, message: &Outgoing) -> &str {
        message.ordering_key(self.fifo.unwrap_or(GroupBy::Unit))
    }
}

/// A queue that takes messages in batches.
pub trait Queue: Send + Sync {
    /// Sends at most [`Queue::limits`] messages in one call. `Ok` lists the entries
    /// the queue refused, by index in `messages`; `Err` means the call itself failed
    /// and nothing can be assumed about any entry.
    fn send_batch(
        &self,
        messages: &[&Outgoing],
    ) -> impl Future<Output = Result<Vec<Refusal>, SendError>> + Send;

    /// What one call may carry; SQS's unless a fake says otherwise.
    fn limits(&self) -> Limits {
        Limits::SQS
    }

    /// How many bytes `message` counts toward [`Limits::bytes`]: as SQS counts it,
    /// unless a fake says otherwise.
    fn payload_size(&self, message: &Outgoing) -> usize {
        message.size()
    }
}

/// One entry the queue refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub index: usize,
    /// Whether sending it again may succeed (a server-side fault, throttling), as
    /// opposed to a fault in the message itself.
    pub retryable: bool,
    pub code: String,
    pub message: String,
}

/// The whole batch call failed (network, credentials, queue missing, throttled past
/// the SDK's own retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// How [`publish`] sends: calls in flight, resends of refused entries, and how long
/// it may take in all.
#[derive(Debug, Clone, Copy)]
pub struct PublishPolicy {
    /// Calls in flight at most ([`MAX_CALLS_IN_FLIGHT`]); 0 counts as 1.
    pub concurrency: usize,
    /// Attempts per entry, the first included.
    pub attempts: u32,
    /// The pause before the first resend; doubled before each next one.
    pub backoff: Duration,
    /// The whole publication, every call and resend: past it, [`publish`] stops and
    /// answers [`PublishErrorKind::Timeout`].
    pub deadline: Duration,
}

impl Default for PublishPolicy {
    fn default() -> Self {
        Self {
            concurrency: MAX_CALLS_IN_FLIGHT,
            attempts: 3,
            backoff: Duration::from_millis(50),
            deadline: ENQUEUE_DEADLINE,
        }
    }
}

/// Not every message of a batch is on the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{enqueued} of {total} messages enqueued; {reason}")]
pub struct PublishError {
    /// How many messages the queue confirmed before [`publish`] gave up.
    pub enqueued: usize,
    pub total: usize,
    pub reason: String,
    pub kind: PublishErrorKind,
}

/// Why [`publish`] failed, and so whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishErrorKind {
    /// A call failed, or entries were refused: sending again later may work.
    Unconfirmed,
    /// [`PublishPolicy::deadline`] passed first: sending again later may work.
    Timeout,
    /// Permanent: this message is bigger than a queue message can be, so no retry
    /// will ever enqueue it. Nothing of the batch was sent.
    MessageTooLarge {
        id: String,
        size: usize,
        limit: usize,
    },
}

impl PublishError {
    /// Whether sending the same batch again can never succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self.kind, PublishErrorKind::MessageTooLarge { .. })
    }
}

/// The calls of one request, laid out before anything is sent: chains of calls, each
/// chain sent in order, the chains concurrently.
type Chain<'a> = Vec<Vec<&'a Outgoing>>;

/// One call being filled.
struct Call<'a> {
    messages: Vec<&'a Outgoing>,
    bytes: usize,
}

impl<'a> Call<'a> {
    fn new() -> Self {
        Self {
            messages: Vec::new(),
            bytes: 0,
        }
    }

    fn has_room(&self, limits: Limits, entries: usize, bytes: usize) -> bool {
        self.messages.len() + entries <= limits.entries && self.bytes + bytes <= limits.bytes
    }

    fn push(&mut self, message: &'a Outgoing, bytes: usize) {
        self.messages.push(message);
        self.bytes += bytes;
    }

    /// Adds the messages of `piece` at the end.
    fn append(&mut self, piece: Call<'a>) {
        self.messages.extend(piece.messages);
        self.bytes += piece.bytes;
    }
}

/// A message bigger than one call may carry.
#[derive(Debug)]
struct TooLarge {
    id: String,
    size: usize,
    limit: usize,
}

/// Lays `messages` into chains of calls within `limits`, or names the first message
/// that can never fit.
///
/// A unit's messages are cut, in order, into pieces that each fit in one call (one
/// message each on a FIFO queue ([`Limits::fifo`]), for a unit changed at most
/// [`MAX_CHANGES_ONE_PER_CALL`] times), and piece k goes into the k-th call
/// of a chain, which sends each call only once the one before is confirmed. The unit
/// joins the first chain with room for each of its pieces, else starts one: units of
/// one piece (nearly all) fill first calls, which are all sent at once.
///
/// Why one message per call on a FIFO queue: SQS confirms or refuses each entry of a
/// call on its own, so in one call a later change of a unit could be stored while an
/// earlier one is refused, and the earlier one, resent, would land after it, where
/// the queue keeps it. The cost is one call per change of a unit changed several
/// times in one request, one after another.
fn plan<'a>(
    messages: &'a [Outgoing],
    size: impl Fn(&Outgoing) -> usize,
    limits: Limits,
) -> Result<Vec<Chain<'a>>, TooLarge> {
    let limits = Limits {
        entries: limits.entries.max(1),
        ..limits
    };
    // The units in order of first appearance, each with its messages in order.
    let mut units: Vec<Vec<(&'a Outgoing, usize)>> = Vec::new();
    let mut unit_of: HashMap<&str, usize> = HashMap::new();
    for message in messages {
        let bytes = size(message);
        if bytes > limits.bytes {
            return Err(TooLarge {
                id: message.id().to_owned(),
                size: bytes,
                limit: limits.bytes,
            });
        }
        let index = *unit_of.entry(limits.unit_of(message)).or_insert_with(|| {
            units.push(Vec::new());
            units.len() - 1
        });
        units[index].push((message, bytes));
    }
    // Each unit cut, in order, into pieces of what one call may hold of it.
    let units = units.into_iter().map(|unit| {
        let one_per_call = limits.fifo.is_some() && unit.len() <= MAX_CHANGES_ONE_PER_CALL;
        let piece_limits = Limits {
            entries: if one_per_call { 1 } else { limits.entries },
            ..limits
        };
        let mut pieces: Vec<Call<'a>> = Vec::new();
        for (message, bytes) in unit {
            match pieces.last_mut() {
                Some(piece) if piece.has_room(piece_limits, 1, bytes) => piece.push(message, bytes),
                _ => {
                    let mut piece = Call::new();
                    piece.push(message, bytes);
                    pieces.push(piece);
                }
            }
        }
        pieces
    });

    let mut chains: Vec<Vec<Call<'a>>> = Vec::new();
    for pieces in units {
        // Past a chain's last call there are new, empty calls: `zip` stops there.
        let has_room = |chain: &Vec<Call<'a>>| {
            pieces
                .iter()
                .zip(chain)
                .all(|(piece, call)| call.has_room(limits, piece.messages.len(), piece.bytes))
        };
        let index = chains.iter().position(has_room).unwrap_or_else(|| {
            chains.push(Vec::new());
            chains.len() - 1
        });
        let chain = &mut chains[index];
        for (position, piece) in pieces.into_iter().enumerate() {
            match chain.get_mut(position) {
                Some(call) => call.append(piece),
                None => chain.push(piece),
            }
        }
    }
    Ok(chains
        .into_iter()
        .map(|chain| chain.into_iter().map(|call| call.messages).collect())
        .collect())
}

/// Puts every message (all from one verified [`Batch`](org_change_core::Batch), or one
/// quarantined event) on `queue`: in calls within the queue's limits,
/// several at once, each unit's messages in order. Returns how many were enqueued,
/// which is all of them, or an error saying how many the queue confirmed.
pub async fn publish<Q: Queue>(
    queue: &Q,
    messages: &[Outgoing],
    policy: PublishPolicy,
) -> Result<usize, PublishError> {
    let total = messages.len();
    let chains = plan(
        messages,
        |message| queue.payload_size(message),
        queue.limits(),
    )
    .map_err(|TooLarge { id, size, limit }| PublishError {
        enqueued: 0,
        total,
        reason: format!(
            "{id} counts {size} bytes for SQS, over the {limit}-byte limit of one message: it can never be enqueued, so none of the request was sent"
        ),
        kind: PublishErrorKind::MessageTooLarge { id, size, limit },
    })?;

    let confirmed = AtomicUsize::new(0);
    let fail = |reason: String, kind| PublishError {
        enqueued: confirmed.load(Ordering::SeqCst),
        total,
        reason,
        kind,
    };
    // Futures do nothing until polled: these start as `buffer_unordered` takes them.
    // (Built in a Vec rather than by a closure in the stream, whose lifetimes would
    // keep the handler's future from being `Send`.)
    let sends: Vec<_> = chains
        .iter()
        .map(|chain| send_chain(queue, chain, policy, &confirmed))
        .collect();
    let all = async {
        let mut chains = stream::iter(sends).buffer_unordered(policy.concurrency.max(1));
        // The first failure ends the publication: the calls still in flight are
        // dropped and no other is started. The platform sends the request again.
        while let Some(result) = chains.next().await {
            result?;
        }
        Ok(())
    };
    match tokio::time::timeout(policy.deadline, all).await {
        Ok(Ok(())) => Ok(confirmed.load(Ordering::SeqCst)),
        Ok(Err(reason)) => Err(fail(reason, PublishErrorKind::Unconfirmed)),
        Err(_elapsed) => Err(fail(
            format!(
                "SQS did not confirm every message within {} ms",
                policy.deadline.as_millis()
            ),
            PublishErrorKind::Timeout,
        )),
    }
}

/// Sends the calls of `chain` one after another, each once the one before is fully
/// confirmed; counts every confirmed entry in `confirmed` as soon as it is.
async fn send_chain<Q: Queue>(
    queue: &Q,
    chain: &[Vec<&Outgoing>],
    policy: PublishPolicy,
    confirmed: &AtomicUsize,
) -> Result<(), String> {
    for call in chain {
        send_call(queue, call, policy, confirmed).await?;
    }
    Ok(())
}

/// Sends one call, resending the entries refused as retryable.
async fn send_call<Q: Queue>(
    queue: &Q,
    call: &[&Outgoing],
    policy: PublishPolicy,
    confirmed: &AtomicUsize,
) -> Result<(), String> {
    let attempts = policy.attempts.max(1);
    let mut pending: Vec<&Outgoing> = call.to_vec();
    let mut backoff = policy.backoff;
    for attempt in 1..=attempts {
        let refusals = queue
            .send_batch(&pending)
            .await
            .map_err(|err| err.to_string())?;
        let refused: Vec<(&Outgoing, &Refusal)> = refusals
            .iter()
            .map(|refusal| {
                pending
                    .get(refusal.index)
                    .map(|message| (*message, refusal))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| String::from("SQS reported on an entry that was not sent"))?;
        confirmed.fetch_add(
            pending.len().saturating_sub(refused.len()),
            Ordering::SeqCst,
        );
        if let Some((message, refusal)) = refused.iter().find(|(_, refusal)| !refusal.retryable) {
            return Err(format!(
                "SQS refused {} with {}: {}",
                message.id(),
                refusal.code,
                refusal.message
            ));
        }
        let Some((first, refusal)) = refused.first() else {
            return Ok(());
        };
        if attempt == attempts {
            return Err(format!(
                "SQS still refused {} message(s) after {attempt} attempts, e.g. {} with {}: {}",
                refused.len(),
                first.id(),
                refusal.code,
                refusal.message
            ));
        }
        pending = refused.into_iter().map(|(message, _)| message).collect();
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
    Ok(())
}

/// Batches received for real, for the unit tests of the publishing code and its sinks.
#[cfg(test)]
pub(crate) mod fixtures {
    use org_change_core::{Batch, Delivery, Endpoint, Inbound, Source, VerificationToken, receive};

    /// A Feilian update whose entry `i` changes department `od_<units[i]>` and carries
    /// `name_bytes` bytes of name, received for real. Entry `i` is `feilian:e1:<i>`.
    pub(crate) fn feilian(units: &[usize], name_bytes: usize) -> Batch {
        let name = "n".repeat(name_bytes);
        let events: Vec<String> = units
            .iter()
            .map(|unit| {
                format!(
                    r#"{{"object":{{"open_id":"od_{unit}","name":"{name}"}},"updated_fields":["name"]}}"#
                )
            })
            .collect();
        received(&format!(
            r#"{{"schema":"1.0","header":{{"event_id":"e1","token":"t","create_time":"1740385174957","event_type":"department.v1.update","app_id":"a"}},"data":{{"events":[{}]}}}}"#,
            events.join(",")
        ))
    }

    /// The batch of a plaintext Feilian `body` whose token is `t`.
    pub(crate) fn received(body: &str) -> Batch {
        let endpoint = Endpoint::new(Source::Feilian, VerificationToken::new("t"), None);
        let inbound = Inbound {
            body: body.as_bytes(),
            signature: None,
        };
        // A plaintext endpoint has no replay window: any time will do.
        match receive(&endpoint, inbound, std::time::UNIX_EPOCH) {
            Ok(Delivery::Changes(batch)) => batch,
            other => panic!("expected changes, got {other:?}"),
        }
    }

    /// `entries` changes, each to a department of its own.
    pub(crate) fn batch(entries: usize) -> Batch {
        feilian(&(0..entries).collect::<Vec<_>>(), 1)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashSet, VecDeque};
    use std::sync::Mutex;

    use super::fixtures::{batch, feilian, received};
    use super::*;

    /// The index of a message in its request, from its id `feilian:e1:<index>`.
    fn index(id: &str) -> usize {
        id.rsplit(':')
            .next()
            .and_then(|i| i.parse().ok())
            .expect("a Feilian id")
    }

    /// One call the fake received.
    #[derive(Debug, Clone)]
    struct Recorded {
        ids: Vec<String>,
        /// When it started and ended, on the fake's event counter.
        started: usize,
        ended: Option<usize>,
    }

    /// A fake queue. Answers each call with the next scripted result (then with
    /// "all accepted"), refuses the messages named in `refusals` as told, takes
    /// `delay(call number)` to answer, and records every call, how many were in flight
    /// at once, and the order in which accepted messages reached the queue.
    #[derive(Default)]
    struct ScriptedQueue {
        script: Mutex<VecDeque<Result<Vec<Refusal>, SendError>>>,
        /// Message id → (retryable, how many more times to refuse it).
        refusals: Mutex<HashMap<String, (bool, u32)>>,
        delay: Option<fn(usize) -> Duration>,
        limits: Option<Limits>,
        calls: Mutex<Vec<Recorded>>,
        queue: Mutex<Vec<String>>,
        events: AtomicUsize,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
    }

    impl ScriptedQueue {
        fn new(script: Vec<Result<Vec<Refusal>, SendError>>) -> Self {
            Self {
                script: Mutex::new(script.into()),
                ..Default::default()
            }
        }

        fn slow(delay: fn(usize) -> Duration) -> Self {
            Self {
                delay: Some(delay),
                ..Default::default()
            }
        }

        fn refuse(self, id: &str, retryable: bool, times: u32) -> Self {
            self.refusals
                .lock()
                .unwrap()
                .insert(id.to_owned(), (retryable, times));
            self
        }

        fn calls(&self) -> Vec<Vec<String>> {
            self.recorded().into_iter().map(|call| call.ids).collect()
        }

        fn recorded(&self) -> Vec<Recorded> {
            self.calls.lock().unwrap().clone()
        }

        /// How many calls carried `id`.
        fn sends_of(&self, id: &str) -> usize {
            self.calls()
                .iter()
                .flatten()
                .filter(|sent| *sent == id)
                .count()
        }

        fn max_in_flight(&self) -> usize {
            self.max_in_flight.load(Ordering::SeqCst)
        }

        /// What is on the queue, in the order it got there.
        fn queued(&self) -> Vec<String> {
            self.queue.lock().unwrap().clone()
        }
    }

    impl Queue for ScriptedQueue {
        async fn send_batch(&self, messages: &[&Outgoing]) -> Result<Vec<Refusal>, SendError> {
            let number = {
                let mut calls = self.calls.lock().unwrap();
                calls.push(Recorded {
                    ids: messages.iter().map(|m| m.id().to_owned()).collect(),
                    started: self.events.fetch_add(1, Ordering::SeqCst),
                    ended: None,
                });
                calls.len() - 1
            };
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            // Leaves the in-flight count right even when the call is dropped mid-way.
            struct Landed<'a>(&'a AtomicUsize);
            impl Drop for Landed<'_> {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, Ordering::SeqCst);
                }
            }
            let _landed = Landed(&self.in_flight);
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay(number)).await;
            }

            let scripted = self.script.lock().unwrap().pop_front();
            let mut refusals = match scripted {
                Some(Err(err)) => return Err(err),
                Some(Ok(refusals)) => refusals,
                None => Vec::new(),
            };
            let mut told = self.refusals.lock().unwrap();
            for (index, message) in messages.iter().enumerate() {
                if let Some((retryable, times)) = told.get_mut(message.id())
                    && *times > 0
                {
                    *times -= 1;
                    refusals.push(Refusal {
                        index,
                        retryable: *retryable,
                        code: "Told".into(),
                        message: "refused as told".into(),
                    });
                }
            }
            let refused: HashSet<usize> = refusals.iter().map(|r| r.index).collect();
            self.queue.lock().unwrap().extend(
                messages
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| !refused.contains(index))
                    .map(|(_, message)| message.id().to_owned()),
            );
            self.calls.lock().unwrap()[number].ended =
                Some(self.events.fetch_add(1, Ordering::SeqCst));
            Ok(refusals)
        }

        fn limits(&self) -> Limits {
            self.limits.unwrap_or(Limits::SQS)
        }
    }

    fn refusal(index: usize, retryable: bool) -> Refusal {
        Refusal {
            index,
            retryable,
            code: "InternalError".into(),
            message: "try again".into(),
        }
    }

    const FAST: PublishPolicy = PublishPolicy {
        concurrency: MAX_CALLS_IN_FLIGHT,
        attempts: 3,
        backoff: Duration::from_millis(1),
        deadline: Duration::from_secs(60),
    };

    const ONE_AT_A_TIME: PublishPolicy = PublishPolicy {
        concurrency: 1,
        ..FAST
    };

    #[tokio::test]
    async fn sends_in_calls_of_ten_each_message_once() {
        let queue = ScriptedQueue::default();
        assert_eq!(publish(&queue, batch(23).messages(), FAST).await, Ok(23));
        let sizes: Vec<usize> = queue.calls().iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 10, 3]);
        assert_eq!(
            queue.calls()[2],
            ["feilian:e1:20", "feilian:e1:21", "feilian:e1:22"]
        );
        let mut queued = queue.queued();
        queued.sort_by_key(|id| index(id));
        let expected: Vec<String> = (0..23).map(|i| format!("feilian:e1:{i}")).collect();
        assert_eq!(queued, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_ten_calls_are_in_flight_at_once() {
        let queue = ScriptedQueue::slow(|_| Duration::from_millis(30));
        let started = tokio::time::Instant::now();
        assert_eq!(
            publish(&queue, batch(1_000).messages(), FAST).await,
            Ok(1_000)
        );
        assert_eq!(queue.calls().len(), 100);
        assert_eq!(queue.max_in_flight(), MAX_CALLS_IN_FLIGHT);
        // 100 calls of 30 ms, ten at a time: ten rounds, not a hundred.
        assert_eq!(started.elapsed(), Duration::from_millis(300));
        assert_eq!(queue.queued().len(), 1_000);

        let queue = ScriptedQueue::slow(|_| Duration::from_millis(30));
        assert_eq!(
            publish(&queue, batch(100).messages(), ONE_AT_A_TIME).await,
            Ok(100)
        );
        assert_eq!(queue.max_in_flight(), 1);
    }

    /// Each unit's messages reached the queue in the request's order, and no two
    /// calls carrying the same unit were in flight at the same time.
    fn assert_units_in_order(queue: &ScriptedQueue, units: &[usize]) {
        let unit_of = |id: &str| units[index(id)];
        for unit in units.iter().copied().collect::<HashSet<_>>() {
            let arrived: Vec<usize> = queue
                .queued()
                .iter()
                .filter(|id| unit_of(id) == unit)
                .map(|id| index(id))
                .collect();
            let mut sorted = arrived.clone();
            sorted.sort_unstable();
            assert_eq!(arrived, sorted, "unit {unit} out of order");
        }
        let calls = queue.recorded();
        for (a, first) in calls.iter().enumerate() {
            for second in &calls[a + 1..] {
                let shared = first
                    .ids
                    .iter()
                    .any(|x| second.ids.iter().any(|y| unit_of(x) == unit_of(y)));
                if shared {
                    let ended = first.ended.expect("every call ended");
                    assert!(
                        ended < second.started,
                        "{:?} started before {:?} ended",
                        second.ids,
                        first.ids
                    );
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_units_changes_stay_in_order_across_calls_while_other_units_go_alongside() {
        // Three departments changed 25 times each, interleaved: each unit spans three
        // calls. Later calls answer faster, so calls sent at once would overtake.
        let units: Vec<usize> = (0..75).map(|i| i % 3).collect();
        let queue = ScriptedQueue::slow(|call| Duration::from_millis(50 - call as u64 * 3));
        assert_eq!(
            publish(&queue, feilian(&units, 1).messages(), FAST).await,
            Ok(75)
        );
        assert_units_in_order(&queue, &units);
        assert_eq!(queue.max_in_flight(), 3, "the three units went alongside");
        assert_eq!(queue.queued().len(), 75);

        // Many small units and a few big ones, mixed.
        let units: Vec<usize> = (0..300)
            .map(|i| if i % 4 == 0 { 1_000 + i % 3 } else { i })
            .collect();
        let queue = ScriptedQueue::slow(|call| Duration::from_millis(100 - (call as u64 % 90)));
        assert_eq!(
            publish(&queue, feilian(&units, 1).messages(), FAST).await,
            Ok(300)
        );
        assert_units_in_order(&queue, &units);
        assert_eq!(queue.max_in_flight(), MAX_CALLS_IN_FLIGHT);
    }

    #[test]
    fn small_units_are_packed_whole_into_the_first_call_with_room() {
        // Units of 9, 9, 1 and 1 messages: two calls of ten, no unit split.
        let units: Vec<usize> = [vec![0; 9], vec![1; 9], vec![2], vec![3]].concat();
        let batch = feilian(&units, 1);
        let chains = plan(batch.messages(), Outgoing::size, Limits::SQS).unwrap();
        let calls: Vec<Vec<usize>> = chains
            .iter()
            .flatten()
            .map(|call| call.iter().map(|m| index(m.id())).collect())
            .collect();
        assert_eq!(
            calls,
            [
                (0..9).chain([18]).collect::<Vec<_>>(),
                (9..18).chain([19]).collect::<Vec<_>>()
            ]
        );
        assert_eq!(chains.len(), 2, "two independent calls");
    }

    /// The indices of each call of each chain `plan` makes of `units` within `limits`.
    fn planned(units: &[usize], limits: Limits) -> Vec<Vec<Vec<usize>>> {
        let batch = feilian(units, 1);
        plan(batch.messages(), Outgoing::size, limits)
            .unwrap()
            .iter()
            .map(|chain| {
                chain
                    .iter()
                    .map(|call| call.iter().map(|m| index(m.id())).collect())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_unit_bigger_than_a_call_is_a_chain_of_calls_and_small_units_go_alongside() {
        // Unit 0 changed 25 times, then five units once each.
        let units: Vec<usize> = [vec![0; 25], (1..=5).collect()].concat();
        assert_eq!(
            planned(&units, Limits::SQS),
            [
                vec![
                    (0..10).collect::<Vec<_>>(),
                    (10..20).collect(),
                    (20..25).collect()
                ],
                vec![(25..30).collect()]
            ],
            "one chain of three calls, in order; the small units in a call of their own, sent at once"
        );
    }

    #[test]
    fn on_a_fifo_queue_a_call_holds_one_change_of_each_unit() {
        // Units of 9, 9, 1 and 1 changes: the two long ones share one chain of nine
        // calls, one change of each per call; the short ones join its first call.
        let units: Vec<usize> = [vec![0; 9], vec![1; 9], vec![2], vec![3]].concat();
        let mut calls: Vec<Vec<usize>> = (0..9).map(|k| vec![k, 9 + k]).collect();
        calls[0].extend([18, 19]);
        assert_eq!(planned(&units, Limits::sqs_fifo(GroupBy::Unit)), [calls]);

        // Up to MAX_CHANGES_ONE_PER_CALL changes one per call; a unit changed more
        // often is packed ten to a call, or the request could never be acknowledged.
        let most = vec![0; MAX_CHANGES_ONE_PER_CALL];
        assert_eq!(
            planned(&most, Limits::sqs_fifo(GroupBy::Unit)),
            [(0..MAX_CHANGES_ONE_PER_CALL)
                .map(|k| vec![k])
                .collect::<Vec<_>>()]
        );
        let more = vec![0; MAX_CHANGES_ONE_PER_CALL + 1];
        assert_eq!(
            planned(&more, Limits::sqs_fifo(GroupBy::Unit)),
            planned(&more, Limits::SQS)
        );

        // Units changed once go ten to a call, as on a standard queue.
        let units: Vec<usize> = (0..23).collect();
        assert_eq!(
            planned(&units, Limits::sqs_fifo(GroupBy::Unit)),
            planned(&units, Limits::SQS)
        );
        assert_eq!(planned(&units, Limits::SQS).len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn on_a_fifo_queue_a_unit_changed_300_times_is_still_acknowledged_in_time() {
        // One call per change would take 300 × 30 ms, past the 2.5 s deadline on
        // every retry; ten to a call, 30 calls take 0.9 s.
        let queue = ScriptedQueue {
            limits: Some(Limits::sqs_fifo(GroupBy::Unit)),
            ..ScriptedQueue::slow(|_| Duration::from_millis(30))
        };
        let units = vec![0; 300];
        let policy = PublishPolicy {
            deadline: PublishPolicy::default().deadline,
            ..FAST
        };
        assert_eq!(
            publish(&queue, feilian(&units, 1).messages(), policy).await,
            Ok(300)
        );
        assert_eq!(queue.calls().len(), 30);
        assert_units_in_order(&queue, &units);
    }

    #[test]
    fn on_a_fifo_queue_grouped_by_tenant_every_unit_keeps_the_request_order() {
        // A parent's creation, a child's creation, the child's update: three units of
        // one tenant, one group, one call after another in the request's order.
        let units = [0, 1, 1];
        assert_eq!(
            planned(&units, Limits::sqs_fifo(GroupBy::Tenant)),
            [vec![vec![0], vec![1], vec![2]]]
        );
        // By unit, unit 0 and unit 1's first change go in one call, sent at once.
        assert_eq!(
            planned(&units, Limits::sqs_fifo(GroupBy::Unit)),
            [vec![vec![0, 1], vec![2]]]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn on_a_fifo_queue_1000_changes_of_one_tenant_are_acknowledged_in_time_either_way() {
        // 1,000 departments of one tenant behind 20 ms of SQS latency. By tenant: one
        // group, ten to a call, 100 calls in a row (2 s). By unit: 100 calls, ten at once.
        let units: Vec<usize> = (0..1000).collect();
        let policy = PublishPolicy {
            deadline: PublishPolicy::default().deadline,
            ..FAST
        };
        for (by, in_flight) in [(GroupBy::Tenant, 1), (GroupBy::Unit, MAX_CALLS_IN_FLIGHT)] {
            let queue = ScriptedQueue {
                limits: Some(Limits::sqs_fifo(by)),
                ..ScriptedQueue::slow(|_| Duration::from_millis(20))
            };
            let started = tokio::time::Instant::now();
            assert_eq!(
                publish(&queue, feilian(&units, 1).messages(), policy).await,
                Ok(1000),
                "{by:?}"
            );
            assert!(started.elapsed() < policy.deadline, "{by:?}");
            assert_eq!(queue.calls().len(), 100, "{by:?}");
            assert_eq!(queue.max_in_flight(), in_flight, "{by:?}");
        }
    }

    #[tokio::test]
    async fn on_a_fifo_queue_a_refused_change_is_never_overtaken_by_a_later_one_of_its_unit() {
        // SQS refuses the first change of a unit once and stores the rest of the call:
        // were the unit's later changes in that call, the first would land after them
        // (as on a standard queue, which keeps no order anyway).
        for units in [vec![0, 0, 0], vec![0, 1, 0, 1, 2]] {
            let fifo = ScriptedQueue {
                limits: Some(Limits::sqs_fifo(GroupBy::Unit)),
                ..Default::default()
            }
            .refuse("feilian:e1:0", true, 1);
            assert_eq!(
                publish(&fifo, feilian(&units, 1).messages(), FAST).await,
                Ok(units.len())
            );
            assert_eq!(fifo.sends_of("feilian:e1:0"), 2, "{units:?}");
            assert_units_in_order(&fifo, &units);

            let standard = ScriptedQueue::default().refuse("feilian:e1:0", true, 1);
            assert_eq!(
                publish(&standard, feilian(&units, 1).messages(), FAST).await,
                Ok(units.len())
            );
            // There, unit 0's change 2 went in the call with change 0, and stayed ahead.
            let queued = standard.queued();
            let at = |id: &str| queued.iter().position(|queued| queued == id);
            assert!(
                at("feilian:e1:2") < at("feilian:e1:0"),
                "{units:?}: {queued:?}"
            );
        }
    }

    #[tokio::test]
    async fn calls_are_split_by_size_as_well_as_count() {
        let batch = feilian(&(0..10).collect::<Vec<_>>(), 1_000);
        let size = Outgoing::size(&batch.messages()[0]);
        let limit = 3 * size + size / 2;
        let queue = ScriptedQueue {
            limits: Some(Limits {
                entries: 10,
                bytes: limit,
                ..Limits::SQS
            }),
            ..Default::default()
        };
        assert_eq!(publish(&queue, batch.messages(), FAST).await, Ok(10));
        let sizes: Vec<usize> = queue.calls().iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 3, 1]);
        for call in queue.calls() {
            let bytes: usize = call
                .iter()
                .map(|id| Outgoing::size(&batch.messages()[index(id)]))
                .sum();
            assert!(bytes <= limit, "{bytes} > {limit}");
        }
    }

    #[tokio::test]
    async fn a_message_sqs_could_never_take_is_a_permanent_error_and_nothing_is_sent() {
        // Entry 1 of 3 has a name of a million bytes: SQS's real limits.
        let name = "x".repeat(sqs::MAX_PAYLOAD_BYTES);
        let batch = received(&format!(
            r#"{{"schema":"1.0","header":{{"event_id":"e1","token":"t","event_type":"department.v1.update"}},"data":{{"events":[{{"object":{{"open_id":"od_0"}}}},{{"object":{{"open_id":"od_1","name":"{name}"}}}},{{"object":{{"open_id":"od_2"}}}}]}}}}"#
        ));
        let queue = ScriptedQueue::default();
        let err = publish(&queue, batch.messages(), FAST).await.unwrap_err();
        let size = Outgoing::size(&batch.messages()[1]);
        assert!(size > sqs::MAX_PAYLOAD_BYTES);
        assert_eq!(
            err.kind,
            PublishErrorKind::MessageTooLarge {
                id: "feilian:e1:1".into(),
                size,
                limit: sqs::MAX_PAYLOAD_BYTES,
            }
        );
        assert!(err.is_permanent());
        assert_eq!((err.enqueued, err.total), (0, 3));
        assert!(
            queue.calls().is_empty(),
            "nothing sent: {:?}",
            queue.calls()
        );
    }

    #[tokio::test]
    async fn resends_only_the_retryable_refusals() {
        let queue = ScriptedQueue::new(vec![
            Ok(vec![refusal(1, true), refusal(3, true)]),
            Ok(vec![refusal(0, true)]),
        ]);
        assert_eq!(publish(&queue, batch(4).messages(), FAST).await, Ok(4));
        assert_eq!(
            queue.calls(),
            [
                vec![
                    "feilian:e1:0",
                    "feilian:e1:1",
                    "feilian:e1:2",
                    "feilian:e1:3"
                ],
                vec!["feilian:e1:1", "feilian:e1:3"],
                vec!["feilian:e1:1"]
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refused_entries_are_resent_while_other_calls_are_in_flight() {
        let queue = ScriptedQueue::slow(|_| Duration::from_millis(20))
            .refuse("feilian:e1:5", true, 1)
            .refuse("feilian:e1:55", true, 2)
            .refuse("feilian:e1:95", true, 1);
        assert_eq!(publish(&queue, batch(100).messages(), FAST).await, Ok(100));
        assert_eq!(queue.sends_of("feilian:e1:5"), 2);
        assert_eq!(queue.sends_of("feilian:e1:55"), 3);
        assert_eq!(queue.sends_of("feilian:e1:95"), 2);
        assert_eq!(queue.sends_of("feilian:e1:6"), 1);
        assert_eq!(queue.calls().len(), 10 + 4, "ten calls and four resends");
        assert_eq!(queue.max_in_flight(), 10);
        let queued: HashSet<String> = queue.queued().into_iter().collect();
        assert_eq!(queued.len(), 100);
    }

    #[tokio::test]
    async fn gives_up_after_the_last_attempt_and_counts_what_got_through() {
        let queue = ScriptedQueue::new(vec![
            Ok(vec![refusal(0, true)]),
            Ok(vec![refusal(0, true)]),
            Ok(vec![refusal(0, true)]),
        ]);
        let err = publish(&queue, batch(2).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!((err.enqueued, err.total), (1, 2));
        assert_eq!(err.kind, PublishErrorKind::Unconfirmed);
        assert!(!err.is_permanent());
        assert!(err.reason.contains("after 3 attempts"), "{err}");
        assert_eq!(queue.calls().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_sender_fault_is_not_retried_and_ends_the_publication() {
        // Two calls at once; the first answers first, with a sender fault on entry 1.
        let queue = ScriptedQueue::slow(|call| Duration::from_millis(10 + 100 * call as u64))
            .refuse("feilian:e1:1", false, 1);
        let err = publish(&queue, batch(12).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!((err.enqueued, err.total), (9, 12));
        assert_eq!(err.kind, PublishErrorKind::Unconfirmed);
        assert!(err.reason.contains("feilian:e1:1"), "{err}");
        assert_eq!(queue.sends_of("feilian:e1:1"), 1, "not resent");
        assert_eq!(queue.calls().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_call_stops_the_batch_and_no_further_call_starts() {
        let queue = ScriptedQueue::new(vec![
            Ok(vec![]),
            Err(SendError("connection refused".into())),
        ]);
        let err = publish(&queue, batch(35).messages(), ONE_AT_A_TIME)
            .await
            .unwrap_err();
        assert_eq!((err.enqueued, err.total), (10, 35));
        assert!(err.reason.contains("connection refused"));
        assert_eq!(
            queue.calls().len(),
            2,
            "the third and fourth calls never start"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_failed_call_among_many_in_flight_is_an_error_never_a_partial_success() {
        let queue = ScriptedQueue {
            script: Mutex::new(
                (0..40)
                    .map(|call| {
                        if call == 36 {
                            Err(SendError("connection reset".into()))
                        } else {
                            Ok(vec![])
                        }
                    })
                    .collect(),
            ),
            delay: Some(|_| Duration::from_millis(25)),
            ..Default::default()
        };
        let err = publish(&queue, batch(1_000).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!(err.total, 1_000);
        assert!(err.reason.contains("connection reset"), "{err}");
        // Calls answer in the order they were made: the 36 before it are confirmed.
        assert_eq!(err.enqueued, 360);
        assert!(
            queue.calls().len() <= 37 + MAX_CALLS_IN_FLIGHT,
            "no call started once it failed: {}",
            queue.calls().len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_caps_the_whole_publication_and_counts_what_was_confirmed() {
        let queue = ScriptedQueue::slow(|_| Duration::from_secs(1));
        let policy = PublishPolicy {
            deadline: Duration::from_millis(1_500),
            ..FAST
        };
        let started = tokio::time::Instant::now();
        let err = publish(&queue, batch(200).messages(), policy)
            .await
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_millis(1_500));
        assert_eq!(err.kind, PublishErrorKind::Timeout);
        assert_eq!(
            (err.enqueued, err.total),
            (100, 200),
            "the first ten calls answered at 1 s"
        );
        assert!(!err.is_permanent());
    }

    #[tokio::test]
    async fn a_report_on_an_entry_never_sent_is_an_error_not_a_panic() {
        let queue = ScriptedQueue::new(vec![Ok(vec![refusal(7, true)])]);
        let err = publish(&queue, batch(2).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!(err.enqueued, 0);
    }

    #[tokio::test]
    async fn an_empty_batch_is_published_without_a_call() {
        let queue = ScriptedQueue::default();
        assert_eq!(publish(&queue, batch(0).messages(), FAST).await, Ok(0));
        assert!(queue.calls().is_empty());
    }
}
