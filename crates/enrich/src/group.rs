//! FIFO order: once a record of a message group fails, every later record of that group
//! fails too, so SQS redelivers them in their order.

use crate::record::Record;
use crate::verdict::Verdict;

/// Fails the later records of `index`'s group after its send failed. A record without a
/// group (standard queue) drags none.
pub fn fail_rest_of_group(records: &[Record], verdicts: &mut [Verdict], index: usize, why: &str) {
    let Some(group) = records.get(index).and_then(|r| r.group_id.as_deref()) else {
        return;
    };
    let later = records.iter().zip(verdicts.iter_mut()).skip(index + 1);
    for (record, verdict) in later {
        if record.group_id.as_deref() == Some(group) && !verdict.is_retry() {
            *verdict = Verdict::Retry(format!("an earlier record of its group failed: {why}"));
        }
    }
}

/// Applies [`fail_rest_of_group`] to every record the enricher itself failed.
pub(crate) fn hold_order(records: &[Record], verdicts: &mut [Verdict]) {
    for index in 0..verdicts.len() {
        if let Verdict::Retry(why) = &verdicts[index] {
            let why = why.clone();
            fail_rest_of_group(records, verdicts, index, &why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_send_fails_the_rest_of_its_group() {
        let grouped = |group: Option<&str>| Record {
            body: String::new(),
            group_id: group.map(str::to_owned),
        };
        let records = [
            grouped(Some("a")),
            grouped(Some("a")),
            grouped(Some("b")),
            grouped(Some("a")),
            grouped(None),
        ];
        let ok = || Verdict::forward(String::new());
        let mut verdicts = vec![ok(), ok(), ok(), ok(), ok()];

        fail_rest_of_group(&records, &mut verdicts, 1, "SendMessage failed");

        let failed =
            Verdict::Retry("an earlier record of its group failed: SendMessage failed".to_owned());
        assert_eq!(verdicts, [ok(), ok(), ok(), failed, ok()]);
        fail_rest_of_group(
            &records,
            &mut verdicts,
            4,
            "a standard queue's record drags none",
        );
        assert_eq!(verdicts[4], ok());
    }
}
