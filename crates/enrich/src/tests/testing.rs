//! Test helpers: a fake platform API behind a fake [`Transport`] whose clock moves only
//! when the enricher sleeps, and relay message bodies.

use std::collections::{BTreeMap, VecDeque};
use std::future::{Future, ready};
use std::pin::pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::app::App;
use crate::record::Record;
use crate::transport::Transport;

/// The secret every test app has: no log line or reason may hold it.
pub(crate) const SECRET: &str = "app-secret-never-logged";

/// The fake clock's start: 2026-12-06T08:00:00Z.
pub(crate) fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_544_000)
}

/// `at` as the relay writes `occurred_at`.
pub(crate) fn iso(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// Runs `future` to its end. The fake transport never waits, so one poll does it.
pub(crate) fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the fake transport never waits"),
    }
}

/// The app of endpoint `endpoint`, on the fake host.
pub(crate) fn app(endpoint: &str, app_id: &str) -> App {
    App {
        endpoint: endpoint.to_owned(),
        app_id: app_id.to_owned(),
        app_secret: SECRET.to_owned(),
        api_base: "http://api.test".to_owned(),
    }
}

/// One app, `cli_feishu`, for the default endpoint `feishu`.
pub(crate) fn apps() -> BTreeMap<String, App> {
    BTreeMap::from([("feishu".to_owned(), app("feishu", "cli_feishu"))])
}

/// A record of no FIFO group.
pub(crate) fn record(body: &str) -> Record {
    Record {
        body: body.to_owned(),
        group_id: None,
    }
}

/// A Feishu People message as the relay writes it. `entity` is `department` or
/// `custom_org`; a custom org's type is `custom_org_01`.
pub(crate) fn corehr(
    entity: &str,
    action: &str,
    id: &str,
    occurred_at: Option<SystemTime>,
) -> String {
    let (event_type, api_name) = match entity {
        "department" => (format!("corehr.department.{action}_v2"), "null".to_owned()),
        _ => (
            format!("corehr.custom_org.{action}_v2"),
            "\"custom_org_01\"".to_owned(),
        ),
    };
    let occurred_at = occurred_at.map_or("null".to_owned(), |at| format!("\"{}\"", iso(at)));
    format!(
        r#"{{"schema_version":1,"id":"feishu:ev-{id}","source":"feishu","endpoint":"feishu","event_type":"{event_type}","event_id":"ev-{id}","entity":"{entity}","action":"{action}","entity_id":"{id}","object_api_name":{api_name},"changed_fields":["name"],"occurred_at":{occurred_at},"tenant_key":"tk","app_id":"cli_feishu","before":null,"after":null}}"#
    )
}

/// One POST the fake received.
#[derive(Debug, Clone)]
pub(crate) struct Post {
    pub(crate) url: String,
    pub(crate) bearer: Option<String>,
    pub(crate) body: Value,
    pub(crate) at: SystemTime,
}

/// An answer: HTTP status and body, or a transport error.
pub(crate) type Answer = Result<(u16, String), String>;

#[derive(Default)]
struct State {
    now: Option<SystemTime>,
    posts: Vec<Post>,
    slept: Vec<Duration>,
    tokens_issued: u32,
    token_expire: Option<u64>,
    token_script: VecDeque<Answer>,
    read_script: VecDeque<Answer>,
    /// The objects the fake API holds: item JSON text by id.
    objects: BTreeMap<String, String>,
    /// Ids outside the app's range: a read that asks for one fails whole, with 1160103.
    forbidden: Vec<String>,
}

/// The fake platform API and clock.
#[derive(Default)]
pub(crate) struct Fake {
    state: Mutex<State>,
}

impl Fake {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Holds a department: its item as the API returns it, with extra spaces kept.
    pub(crate) fn department(&self, id: &str) -> String {
        let item = format!(
            r#"{{"id": "{id}", "department_name": [{{"lang": "zh-CN", "value": "部门 {id}"}}], "active": true}}"#
        );
        self.state().objects.insert(id.to_owned(), item.clone());
        item
    }

    /// Holds a custom org.
    pub(crate) fn custom_org(&self, id: &str) -> String {
        let item = format!(
            r#"{{"object_api_name":"custom_org_01","names":[{{"lang":"zh-CN","value":"组织"}}],"active":true,"org_id":"{id}"}}"#
        );
        self.state().objects.insert(id.to_owned(), item.clone());
        item
    }

    /// Puts `id` outside the app's data range.
    pub(crate) fn forbid(&self, id: &str) {
        self.state().forbidden.push(id.to_owned());
    }

    /// The next batch reads get these answers, in order, instead of the held objects.
    pub(crate) fn reads_answer(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state().read_script.extend(answers);
    }

    /// The next token calls get these answers, in order.
    pub(crate) fn tokens_answer(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state().token_script.extend(answers);
    }

    /// Tokens issued from now on expire after `seconds`.
    pub(crate) fn token_expire(&self, seconds: u64) {
        self.state().token_expire = Some(seconds);
    }

    pub(crate) fn advance(&self, by: Duration) {
        let mut state = self.state();
        state.now = Some(state.now.unwrap_or_else(start) + by);
    }

    /// Every POST so far whose URL contains `part`.
    pub(crate) fn posts(&self, part: &str) -> Vec<Post> {
        self.state()
            .posts
            .iter()
            .filter(|p| p.url.contains(part))
            .cloned()
            .collect()
    }

    pub(crate) fn reads(&self) -> Vec<Post> {
        self.posts("/corehr/")
    }

    pub(crate) fn slept(&self) -> Vec<Duration> {
        self.state().slept.clone()
    }

    fn answer(state: &mut State, url: &str, body: &Value) -> Answer {
        if url.contains("tenant_access_token") {
            if let Some(answer) = state.token_script.pop_front() {
                return answer;
            }
            state.tokens_issued += 1;
            let expire = state.token_expire.unwrap_or(7200);
            let token = format!("t-{}", state.tokens_issued);
            return Ok((
                200,
                format!(
                    r#"{{"code":0,"msg":"ok","tenant_access_token":"{token}","expire":{expire}}}"#
                ),
            ));
        }
        if let Some(answer) = state.read_script.pop_front() {
            return answer;
        }
        let ids = body
            .get("department_id_list")
            .or_else(|| body.get("org_ids"));
        let asks = |id: &String| {
            ids.and_then(Value::as_array)
                .is_some_and(|a| a.contains(&Value::from(id.as_str())))
        };
        if state.forbidden.iter().any(asks) {
            return Ok((403, r#"{"code":1160103,"msg":"鉴权失败"}"#.to_owned()));
        }
        let items: Vec<&str> = ids
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|id| state.objects.get(id.as_str()?).map(String::as_str))
            .collect();
        Ok((
            200,
            format!(
                r#"{{"code":0,"msg":"success","data":{{"items":[{}]}}}}"#,
                items.join(",")
            ),
        ))
    }
}

impl Transport for Fake {
    fn post(
        &self,
        url: &str,
        bearer: Option<&str>,
        json: &[u8],
    ) -> impl Future<Output = Result<(u16, Vec<u8>), String>> + Send {
        let mut state = self.state();
        let body: Value = serde_json::from_slice(json).unwrap_or(Value::Null);
        let at = state.now.unwrap_or_else(start);
        let answer = Fake::answer(&mut state, url, &body);
        state.posts.push(Post {
            url: url.to_owned(),
            bearer: bearer.map(str::to_owned),
            body,
            at,
        });
        ready(answer.map(|(status, body)| (status, body.into_bytes())))
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        let mut state = self.state();
        state.slept.push(duration);
        state.now = Some(state.now.unwrap_or_else(start) + duration);
        ready(())
    }

    fn now(&self) -> SystemTime {
        self.state().now.unwrap_or_else(start)
    }
}
