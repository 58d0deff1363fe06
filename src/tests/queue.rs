use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use super::fixtures::{batch, feilian};
use super::*;
use org_change_core::GroupBy;

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
        self.calls.lock().unwrap()[number].ended = Some(self.events.fetch_add(1, Ordering::SeqCst));
        Ok(refusals)
    }

    fn limits(&self) -> Limits {
        self.limits.unwrap_or(Limits::SQS)
    }
}

/// SQS's limits for a FIFO queue grouped `by`.
fn fifo(by: GroupBy) -> Limits {
    Limits {
        fifo: Some(by),
        ..Limits::SQS
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
    let chains = plan(batch.messages(), Limits::SQS);
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
    plan(batch.messages(), limits)
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
    assert_eq!(planned(&units, fifo(GroupBy::Unit)), [calls]);

    // Up to MAX_CHANGES_ONE_PER_CALL changes one per call; a unit changed more
    // often is packed ten to a call, or the request could never be acknowledged.
    let most = vec![0; MAX_CHANGES_ONE_PER_CALL];
    assert_eq!(
        planned(&most, fifo(GroupBy::Unit)),
        [(0..MAX_CHANGES_ONE_PER_CALL)
            .map(|k| vec![k])
            .collect::<Vec<_>>()]
    );
    let more = vec![0; MAX_CHANGES_ONE_PER_CALL + 1];
    assert_eq!(
        planned(&more, fifo(GroupBy::Unit)),
        planned(&more, Limits::SQS)
    );

    // Units changed once go ten to a call, as on a standard queue.
    let units: Vec<usize> = (0..23).collect();
    assert_eq!(
        planned(&units, fifo(GroupBy::Unit)),
        planned(&units, Limits::SQS)
    );
    assert_eq!(planned(&units, Limits::SQS).len(), 3);
}

#[tokio::test(start_paused = true)]
async fn on_a_fifo_queue_a_unit_changed_300_times_is_still_acknowledged_in_time() {
    // One call per change would take 300 × 30 ms, past the 2.5 s deadline on
    // every retry; ten to a call, 30 calls take 0.9 s.
    let queue = ScriptedQueue {
        limits: Some(fifo(GroupBy::Unit)),
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
        planned(&units, fifo(GroupBy::Tenant)),
        [vec![vec![0], vec![1], vec![2]]]
    );
    // By unit, unit 0 and unit 1's first change go in one call, sent at once.
    assert_eq!(
        planned(&units, fifo(GroupBy::Unit)),
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
            limits: Some(fifo(by)),
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
            limits: Some(fifo(GroupBy::Unit)),
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
    assert!(
        matches!(err.cause, Cause::StillRefused { attempts: 3, .. }),
        "{err}"
    );
    assert!(!matches!(err.cause, Cause::Timeout { .. }));
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
    assert_eq!(queue.calls().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_sender_fault_is_not_retried_and_ends_the_publication() {
    // Two calls at once; the first answers first, with a sender fault on entry 1.
    let queue = ScriptedQueue::slow(|call| Duration::from_millis(10 + 100 * call as u64)).refuse(
        "feilian:e1:1",
        false,
        1,
    );
    let err = publish(&queue, batch(12).messages(), FAST)
        .await
        .unwrap_err();
    assert_eq!((err.enqueued, err.total), (9, 12));
    assert!(
        matches!(&err.cause, Cause::Refused { id, .. } if id == "feilian:e1:1"),
        "{err}"
    );
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
    assert!(matches!(err.cause, Cause::Call(_)), "{err}");
    assert!(err.to_string().contains("connection refused"));
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
    assert!(err.to_string().contains("connection reset"), "{err}");
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
    assert!(matches!(err.cause, Cause::Timeout { .. }), "{err}");
    assert_eq!(
        (err.enqueued, err.total),
        (100, 200),
        "the first ten calls answered at 1 s"
    );
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
