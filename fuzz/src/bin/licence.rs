//! AFL++ target `licence`: see `zkw_fuzz::licence` and README.md.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        zkw_fuzz::licence(data);
    });
}
