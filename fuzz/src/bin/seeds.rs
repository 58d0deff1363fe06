//! Writes the seed corpus of every fuzz target from `events/`:
//! `cargo run --no-default-features --bin seeds -- <corpus dir>` writes
//! `<corpus dir>/<target>/seed.<name>`. scripts/fuzz.sh runs it before fuzzing; the
//! corpus itself is not committed (it is regenerated the same way every time).

use std::path::PathBuf;

use org_change_fuzz::seeds;

fn main() {
    let root = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .expect("usage: seeds <corpus dir>"),
    );
    for (target, inputs) in [
        ("receive", seeds::receive()),
        ("cipher", seeds::cipher()),
        ("timestamp", seeds::timestamp()),
    ] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        for (name, input) in &inputs {
            std::fs::write(dir.join(format!("seed.{name}")), input).expect("write a seed");
        }
        println!("{target}: {} seeds in {}", inputs.len(), dir.display());
    }
}
