//! Credentials of the app that reads current objects.

use std::fmt;

/// The internal app whose token reads one relay endpoint's objects.
#[derive(Clone, PartialEq, Eq)]
pub struct App {
    /// The relay endpoint it serves: `feishu`, `feishu/lark-global`.
    pub endpoint: String,
    /// `cli_…`: names the app in log lines.
    pub app_id: String,
    /// Sent to the token endpoint only, never logged.
    pub app_secret: String,
    /// No trailing slash: `https://open.feishu.cn`.
    pub api_base: String,
}

impl fmt::Debug for App {
    /// Redacts the secret, which must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("endpoint", &self.endpoint)
            .field("app_id", &self.app_id)
            .field("app_secret", &"<redacted>")
            .field("api_base", &self.api_base)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let app = App {
            endpoint: "feishu".into(),
            app_id: "cli_a".into(),
            app_secret: "s3cr3t-value".into(),
            api_base: "https://open.feishu.cn".into(),
        };
        let shown = format!("{app:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("cli_a"), "{shown}");
    }
}
