//! One file per command family.

pub mod conformance;
pub mod demo;
pub mod evm;
pub mod export;
pub mod jobs;
pub mod keys;
pub mod model;
pub mod prove;
pub mod registry;
pub mod request;
pub mod settle;
pub mod store;
pub mod verify;
pub mod worker;

/// Writes a command's output file (a receipt, a request, a contract, an export) whole or not
/// at all, replacing an older one: the one durability contract of every file zkworker writes
/// ([`zkw_verifier::fs::write_atomic`]), so an interrupted `zkw prove -o r.json` never leaves
/// half a receipt under the name. A link is written through (its target replaced, the link
/// kept); a device or a pipe (`-o /dev/stdout`) is simply written to, as there is no file to
/// replace.
pub fn write_output(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use zkw_verifier::fs::{Access, Existing, write_atomic};
    let context = || format!("writing {}", path.display());
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            return std::fs::write(path, bytes.as_ref()).with_context(context);
        }
        _ => {}
    }
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).with_context(context)?,
        _ => path.to_path_buf(),
    };
    write_atomic(&target, bytes.as_ref(), Existing::Replace, Access::Public).with_context(context)
}

#[cfg(test)]
mod tests {
    use super::write_output;

    #[test]
    fn outputs_replace_files_write_through_links_and_stream_to_devices() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.json");
        write_output(&file, "one").unwrap();
        write_output(&file, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "two");
        #[cfg(unix)]
        {
            let link = dir.path().join("latest.json");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            write_output(&link, "three").unwrap();
            assert!(
                std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert_eq!(std::fs::read_to_string(&file).unwrap(), "three");
            write_output(std::path::Path::new("/dev/null"), "gone").unwrap();
        }
        let err = write_output(&dir.path().join("no/such/dir/r.json"), "x").unwrap_err();
        assert!(format!("{err:#}").starts_with("writing "), "{err:#}");
    }
}
