//! One verdict per record, reading current objects in batches per app.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::time::Duration;

use org_change_contract::MissingReason;

use crate::answer::{self, Answer};
use crate::app::App;
use crate::batch::{Batch, batches};
use crate::call::{AppState, call};
use crate::group;
use crate::lag;
use crate::merge::Current;
use crate::outcome::{self, Context};
use crate::record::Record;
use crate::settings::{self, SettingError, Settings};
use crate::target::{self, Lookup, Target};
use crate::transport::Transport;
use crate::verdict::Verdict;

/// The apps by endpoint, with each app's token and rate limits. Build it once and keep it
/// across invocations, so both carry over.
pub struct Enricher {
    apps: BTreeMap<String, App>,
    /// By `(api_base, app_id)`: two endpoints of one app share its token and limits.
    states: HashMap<(String, String), AppState>,
    settings: Settings,
}

impl fmt::Debug for Enricher {
    /// Never the tokens nor the secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enricher")
            .field("apps", &self.apps.values().collect::<Vec<_>>())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Enricher {
    /// Enriches the messages of `apps`, keyed by endpoint (`feishu`, `feishu/lark-global`).
    /// Other endpoints' messages pass unchanged. It uses the whole of each rate limit.
    pub fn new(apps: BTreeMap<String, App>) -> Enricher {
        Enricher {
            apps,
            states: HashMap::new(),
            settings: Settings::default(),
        }
    }

    /// Uses `share`, in (0, 1], of each documented rate limit. Give each concurrent instance
    /// its part, e.g. 1 / reserved concurrency.
    pub fn with_share(mut self, share: f64) -> Result<Enricher, SettingError> {
        self.settings.share = settings::share(share)?;
        self.states.clear();
        Ok(self)
    }

    /// Retries a record whose object is missing until its event is `grace` old, then
    /// forwards it as `not_found` ([`DEFAULT_GRACE`](crate::DEFAULT_GRACE) by default).
    pub fn with_grace(mut self, grace: Duration) -> Enricher {
        self.settings.grace = grace;
        self
    }

    /// The endpoints whose messages are enriched.
    pub fn endpoints(&self) -> impl Iterator<Item = &str> {
        self.apps.keys().map(String::as_str)
    }

    /// One verdict per record, in order. A Retry fails the records after it in its group.
    pub async fn enrich<T: Transport>(
        &mut self,
        transport: &T,
        records: &[Record],
    ) -> Vec<Verdict> {
        let (mut verdicts, lookups) = self.targets(records, "not read");
        let mut calls: VecDeque<Batch> = batches(lookups).into();
        while let Some(batch) = calls.pop_front() {
            let more = self.read(transport, &batch, records, &mut verdicts).await;
            calls.extend(more);
        }
        group::hold_order(records, &mut verdicts);
        verdicts
    }

    /// The verdicts without any read: each record that needs one is retried for `why`.
    /// For an invocation out of time, so that what needs no read still goes on.
    pub fn without_reads(&self, records: &[Record], why: &str) -> Vec<Verdict> {
        let (mut verdicts, _) = self.targets(records, why);
        group::hold_order(records, &mut verdicts);
        verdicts
    }

    /// Each record's verdict if it needs no read, else a Retry for `why`, and the lookups.
    fn targets(&self, records: &[Record], why: &str) -> (Vec<Verdict>, Vec<(usize, Lookup)>) {
        let mut verdicts = Vec::with_capacity(records.len());
        let mut lookups = Vec::new();
        for (index, record) in records.iter().enumerate() {
            let verdict = match target::of(&record.body) {
                Target::Unreadable(why) => Verdict::Forward {
                    body: record.body.clone(),
                    note: Some(why),
                },
                Target::Deleted { endpoint } if self.apps.contains_key(&endpoint) => {
                    let deleted = Current::missing(MissingReason::Deleted, None);
                    outcome::added(records, index, deleted)
                }
                Target::Lookup(lookup) if self.apps.contains_key(&lookup.endpoint) => {
                    lookups.push((index, lookup));
                    Verdict::Retry(why.to_owned())
                }
                _ => Verdict::forward(record.body.clone()),
            };
            verdicts.push(verdict);
        }
        (verdicts, lookups)
    }

    /// Makes `batch`'s call and sets its members' verdicts, or returns the calls still to
    /// make for them.
    async fn read<T: Transport>(
        &mut self,
        transport: &T,
        batch: &Batch,
        records: &[Record],
        verdicts: &mut [Verdict],
    ) -> Vec<Batch> {
        let Some(app) = self.apps.get(&batch.endpoint) else {
            return Vec::new();
        };
        let key = (app.api_base.clone(), app.app_id.clone());
        let state = self.states.entry(key).or_default();
        let now = transport.now();
        let lag = batch
            .members
            .iter()
            .map(|(_, l)| lag::wait(l.occurred_at, now));
        let wait = lag.max().unwrap_or_default();
        if !wait.is_zero() {
            transport.sleep(wait).await;
        }
        let ids: Vec<&str> = batch.ids.iter().map(String::as_str).collect();
        let request = batch.api.request(batch.object_api_name.as_deref(), &ids);
        let share = self.settings.share;
        let results = match call(transport, app, state, share, batch.api, &request).await {
            Err(why) => batch
                .members
                .iter()
                .map(|(index, _)| (*index, Verdict::Retry(why.clone())))
                .collect(),
            Ok(reply) => {
                let answer = answer::read(batch.api, reply.status, &reply.body);
                // Whether one id outside the app's range fails a whole call is not documented
                // (`docs/current-object.md`, "Departments"). Asked alone, only it is forbidden.
                if matches!(answer, Answer::Forbidden(_)) && batch.ids.len() > 1 {
                    return batch.one_by_one();
                }
                let context = Context {
                    records,
                    app_id: &app.app_id,
                    at: reply.at,
                    grace: self.settings.grace,
                };
                outcome::verdicts(batch, &answer, &context)
            }
        };
        for (index, verdict) in results {
            if let Some(slot) = verdicts.get_mut(index) {
                *slot = verdict;
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
#[path = "tests/enricher.rs"]
mod tests;
