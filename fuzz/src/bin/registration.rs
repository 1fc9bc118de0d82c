//! AFL++ target `registration`: see `zkw_fuzz::registration` and README.md.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        zkw_fuzz::registration(data);
    });
}
