//! AFL++ target `input`: see `zkw_fuzz::input` and README.md.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        zkw_fuzz::input(data);
    });
}
