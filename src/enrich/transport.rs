//! [`org_change_enrich::Transport`] over HTTP, with a blocking client on tokio's blocking
//! threads.

use std::time::{Duration, SystemTime};

use org_change_enrich::Transport;

/// How long one call may take, from connecting to the answer's last byte.
///
/// Longer counts as no answer, which is transient: SQS retries the record (`docs/protocol.md`,
/// "The open API (the enricher)"). Five seconds is ample for a read of 100 ids. A batch of
/// ten records makes a token call, at most one renewal and a read per API: within the
/// template's 25 s timeout.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest answer read. 100 departments with every field are a few hundred KB; anything
/// far beyond is not the API's answer.
pub const MAX_ANSWER_BYTES: u64 = 8 * 1024 * 1024;

/// The real transport. Cloning it shares its connection pool.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    agent: ureq::Agent,
}

impl HttpTransport {
    /// A transport whose calls each end after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            // Every answer goes to the logic, which reads the platform's code.
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            // A redirect would send the token call's body, the app secret, to another URL.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent("org-change-enricher")
            .build();
        Self {
            agent: config.into(),
        }
    }
}

impl Default for HttpTransport {
    fn default() -> Self {
        Self::new(CALL_TIMEOUT)
    }
}

impl Transport for HttpTransport {
    async fn post(
        &self,
        url: &str,
        bearer: Option<&str>,
        json: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let agent = self.agent.clone();
        let (url, bearer, json) = (url.to_owned(), bearer.map(str::to_owned), json.to_vec());
        let shown = url.clone();
        // ureq blocks, so the call runs beside the runtime's thread, not on it.
        tokio::task::spawn_blocking(move || post_blocking(&agent, &url, bearer.as_deref(), &json))
            .await
            .unwrap_or_else(|err| Err(format!("POST {shown}: the call's thread failed: {err}")))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// One POST. The error names the URL and the failure, never the token or the body.
fn post_blocking(
    agent: &ureq::Agent,
    url: &str,
    bearer: Option<&str>,
    json: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let mut request = agent
        .post(url)
        .header("Content-Type", "application/json; charset=utf-8");
    if let Some(bearer) = bearer {
        request = request.header("Authorization", format!("Bearer {bearer}"));
    }
    let mut response = request
        .send(json)
        .map_err(|err| format!("POST {url}: {err}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_vec()
        .map_err(|err| format!("POST {url}: reading the answer: {err}"))?;
    Ok((status, body))
}
