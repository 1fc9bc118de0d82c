//! AFL++ target `receipt`: see `zkw_fuzz::receipt` and README.md.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        zkw_fuzz::receipt(data);
    });
}
