//! AFL++ target `model_file`: see `zkw_fuzz::model_file` and README.md.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        zkw_fuzz::model_file(data);
    });
}
