//! The AWS SDK configuration shared by the SQS client and the Secrets Manager read, loaded
//! once.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

/// The platforms give up on a request after 3 seconds (`docs/protocol.md`, "Delivery and
/// retries"). These limits keep one SQS call, retries included, well inside that, so a dead
/// endpoint still gets its 503 in time. `queue::ENQUEUE_DEADLINE` is the backstop.
pub fn with_deadlines(loader: ConfigLoader) -> ConfigLoader {
    loader
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .operation_attempt_timeout(Duration::from_millis(900))
                .operation_timeout(Duration::from_millis(2_000))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(50))
                .with_max_backoff(Duration::from_millis(300)),
        )
}

/// The SDK configuration from the standard AWS variables, with the deadlines above.
pub async fn load_sdk_config() -> SdkConfig {
    with_deadlines(aws_config::defaults(BehaviorVersion::latest()))
        .load()
        .await
}
