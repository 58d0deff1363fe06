//! Which calls send a batch's forwarded records, so a FIFO group keeps its order.
//!
//! A call carries at most one record of each group. Otherwise one entry could fail while a
//! later one of its group succeeded, reordering the group. A failure stops the rest of the
//! group.

use org_change_enrich::{Record, Verdict};

use crate::queue::sqs::{MAX_ENTRIES, MAX_PAYLOAD_BYTES};

/// The next calls: the first unsent forwarded record of each group, and every unsent one
/// without a group. Empty when nothing is left. `size(i)` is what record `i` counts toward
/// one call's size limit.
pub fn next_round(
    records: &[Record],
    verdicts: &[Verdict],
    sent: &[bool],
    size: impl Fn(usize) -> usize,
) -> Vec<Vec<usize>> {
    let pending = |i: usize| matches!(verdicts[i], Verdict::Forward { .. }) && !sent[i];
    let mut round: Vec<usize> = Vec::new();
    for i in (0..records.len()).filter(|&i| pending(i)) {
        let group = &records[i].group_id;
        let behind = group.is_some()
            && (0..i).any(|earlier| pending(earlier) && records[earlier].group_id == *group);
        if !behind {
            round.push(i);
        }
    }
    calls(round, size)
}

/// Cuts `indices` into calls within [`MAX_ENTRIES`] and [`MAX_PAYLOAD_BYTES`]. A record over
/// the limit goes alone, so its refusal fails only itself.
fn calls(indices: Vec<usize>, size: impl Fn(usize) -> usize) -> Vec<Vec<usize>> {
    let mut calls: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for i in indices {
        let fits = calls
            .last()
            .is_some_and(|call| call.len() < MAX_ENTRIES && bytes + size(i) <= MAX_PAYLOAD_BYTES);
        if fits {
            bytes += size(i);
            if let Some(call) = calls.last_mut() {
                call.push(i);
            }
        } else {
            bytes = size(i);
            calls.push(vec![i]);
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(group: Option<&str>) -> Record {
        Record {
            body: "{}".into(),
            group_id: group.map(str::to_owned),
        }
    }

    fn forward() -> Verdict {
        Verdict::forward("{}".into())
    }

    #[test]
    fn a_round_holds_the_first_unsent_record_of_each_group() {
        let records = [
            record(Some("a")),
            record(Some("b")),
            record(Some("a")),
            record(Some("b")),
            record(Some("a")),
        ];
        let verdicts: Vec<Verdict> = records.iter().map(|_| forward()).collect();
        let mut sent = vec![false; 5];
        assert_eq!(next_round(&records, &verdicts, &sent, |_| 1), [vec![0, 1]]);
        sent[0] = true;
        sent[1] = true;
        assert_eq!(next_round(&records, &verdicts, &sent, |_| 1), [vec![2, 3]]);
        sent[2] = true;
        sent[3] = true;
        assert_eq!(next_round(&records, &verdicts, &sent, |_| 1), [vec![4]]);
        sent[4] = true;
        assert!(next_round(&records, &verdicts, &sent, |_| 1).is_empty());
    }

    #[test]
    fn a_record_to_retry_is_never_sent_and_does_not_hold_its_group() {
        let records = [record(Some("a")), record(Some("a")), record(None)];
        let verdicts = [Verdict::Retry("no".into()), forward(), forward()];
        let sent = [false; 3];
        assert_eq!(next_round(&records, &verdicts, &sent, |_| 1), [vec![1, 2]]);
    }

    #[test]
    fn records_without_a_group_go_ten_to_a_call() {
        let records: Vec<Record> = (0..23).map(|_| record(None)).collect();
        let verdicts: Vec<Verdict> = records.iter().map(|_| forward()).collect();
        let sent = vec![false; 23];
        let calls = next_round(&records, &verdicts, &sent, |_| 1);
        let lengths: Vec<usize> = calls.iter().map(Vec::len).collect();
        assert_eq!(lengths, [10, 10, 3]);
        assert_eq!(calls.concat(), (0..23).collect::<Vec<_>>());
    }

    #[test]
    fn a_call_stays_within_the_size_limit_and_a_large_record_goes_alone() {
        let records: Vec<Record> = (0..4).map(|_| record(None)).collect();
        let verdicts: Vec<Verdict> = records.iter().map(|_| forward()).collect();
        let sent = [false; 4];
        let sizes = [400_000, 400_000, 400_000, 2_000_000];
        let calls = next_round(&records, &verdicts, &sent, |i| sizes[i]);
        assert_eq!(calls, [vec![0, 1], vec![2], vec![3]]);
    }
}
