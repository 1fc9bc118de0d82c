//! Runs files through one target without AFL, to reproduce and triage a crash:
//! `cargo run --release --bin replay -- <target> <file>...`. A panic prints its message and
//! backtrace (with `RUST_BACKTRACE=1`); each file that passes prints `ok`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = zkw_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
    let Some((target, files)) = args.split_first() else {
        eprintln!("usage: replay <{}> <file>...", names.join("|"));
        return ExitCode::from(2);
    };
    let Some((_, run)) = zkw_fuzz::TARGETS.iter().find(|(n, _)| n == target) else {
        eprintln!(
            "unknown target `{target}`; the targets are {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    for file in files {
        let data = match std::fs::read(file) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        };
        run(&data);
        println!("{file}: ok");
    }
    ExitCode::SUCCESS
}
