//! AFL++ target `verifying_key`: see `zkw_fuzz::verifying_key` and README.md.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        zkw_fuzz::verifying_key(data);
    });
}
