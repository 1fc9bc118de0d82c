//! Generates the gRPC code from `proto/zkworker/v1/worker.proto`, with `protoc` from the
//! `protoc-bin-vendored` crate so that a fresh machine needs nothing installed.

// `set_var` is unsafe in Rust 2024; a build script is single-threaded.
#[allow(unsafe_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC from the environment.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let proto = root.join("zkworker/v1/worker.proto");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        // prost's codec, but a request that does not decode is INVALID_ARGUMENT (codec.rs).
        .codec_path("crate::codec::Codec")
        .file_descriptor_set_path(out.join("zkworker_v1_descriptor.bin"))
        .compile_protos(&[&proto], &[&root])?;
    println!("cargo:rerun-if-changed={}", proto.display());
    Ok(())
}
