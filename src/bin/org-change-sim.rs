//! `org-change-sim`: the simulator in `crates/sim`, as a binary of this package so
//! that the integration tests can run it.

fn main() -> std::process::ExitCode {
    org_change_sim::main()
}
