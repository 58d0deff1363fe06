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
                    None => Current::missing(MissingReason::NotFound, None),
                },
                Answer::Forbidden(code) => Current::missing(MissingReason::Forbidden, Some(*code)),
                Answer::TokenRefused(code) => {
                    return (
                        *index,
                        Verdict::Retry(fail(&format!("token refused, code {code}"))),
                    );
                }
                Answer::Failed(what) => return (*index, Verdict::Retry(fail(what))),
            };
            (*index, added(context.records, *index, current))
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
