//! How the crypto under the SDK's TLS is built: without aws-lc's CPU-jitter entropy
//! source (.cargo/config.toml), whose one-time seeding costs ~22 ms of CPU before the
//! first TLS connection of every cold start (docs/design.md, "Start-up").

#[test]
fn aws_lc_is_built_without_cpu_jitter_entropy() {
    assert!(
        aws_lc_rs::try_fips_cpu_jitter_entropy().is_err(),
        "aws-lc seeds from CPU jitter entropy: AWS_LC_SYS_NO_JITTER_ENTROPY=1 (.cargo/config.toml) did not apply"
    );
}

#[test]
fn the_random_generator_still_works() {
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    aws_lc_rs::rand::fill(&mut a).expect("random bytes");
    aws_lc_rs::rand::fill(&mut b).expect("random bytes");
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 32]);
}
