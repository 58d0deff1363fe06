//! What each record of a call becomes, given the call's answer.

use std::time::{Duration, SystemTime};

use org_change_contract::MissingReason;

use crate::answer::Answer;
use crate::batch::Batch;
use crate::lag;
use crate::merge::{Current, merge};
use crate::record::Record;
use crate::verdict::Verdict;

/// What a call's verdicts need besides its answer.
pub(crate) struct Context<'a> {
    pub(crate) records: &'a [Record],
    pub(crate) app_id: &'a str,
    /// When the answer came.
    pub(crate) at: SystemTime,
    pub(crate) grace: Duration,
}

/// The verdict of each member of `batch`, by record index.
pub(crate) fn verdicts(
    batch: &Batch,
    answer: &Answer<'_>,
    context: &Context<'_>,
) -> Vec<(usize, Verdict)> {
    let call = batch.api.name();
    let fail = |what: &str| format!("app {}, {call}: {what}", context.app_id);
    batch
        .members
        .iter()
        .map(|(index, lookup)| {
            let missing = |what: &str| Some(fail(&format!("id {} {what}", lookup.id)));
            let mut note = None;
            let current = match answer {
                Answer::Items(items) => match items.get(&lookup.id) {
                    Some(item) => Current::Found {
                        item,
                        at: context.at,
                    },
                    None if lag::may_still_appear(
                        lookup.occurred_at,
                        context.at,
                        context.grace,
                    ) =>
                    {
                        let why = fail(&format!("id {} not in the answer yet", lookup.id));
                        return (*index, Verdict::Retry(why));
                    }
                    None => {
                        note = missing("not found after the grace");
                        Current::missing(MissingReason::NotFound, None)
                    }
                },
                Answer::Forbidden(code) => {
                    note = missing(&format!(
                        "forbidden, code {code}: outside the app's data range"
                    ));
                    Current::missing(MissingReason::Forbidden, Some(*code))
                }
                Answer::TokenRefused(code) => {
                    return (
                        *index,
                        Verdict::Retry(fail(&format!("token refused, code {code}"))),
                    );
                }
                Answer::Failed(what) => return (*index, Verdict::Retry(fail(what))),
            };
            let verdict = match added(context.records, *index, current) {
                Verdict::Forward { body, note: None } => Verdict::Forward { body, note },
                other => other,
            };
            (*index, verdict)
        })
        .collect()
}

/// Record `index`'s body with `current` added.
pub(crate) fn added(records: &[Record], index: usize, current: Current<'_>) -> Verdict {
    let body = records.get(index).map_or("", |r| r.body.as_str());
    match merge(body, current) {
        Some(body) => Verdict::forward(body),
        None => Verdict::Forward {
            body: body.to_owned(),
            note: Some("not a JSON object: forwarded unchanged".to_owned()),
        },
    }
}

/// `body`, the relay's message, forwarded without the object its read returned: with it the
/// message would be over the queue's size limit, which no retry changes.
pub fn too_large(body: &str) -> Verdict {
    let current = Current::missing(MissingReason::TooLarge, None);
    let note = "the object read would make the message too large for the queue".to_owned();
    match merge(body, current) {
        Some(body) => Verdict::Forward {
            body,
            note: Some(note),
        },
        None => Verdict::Forward {
            body: body.to_owned(),
            note: Some(note),
        },
    }
}
