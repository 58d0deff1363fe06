//! The simulator in `crates/sim`, as a binary the integration tests can run.

fn main() -> std::process::ExitCode {
    org_change_sim::main()
}
