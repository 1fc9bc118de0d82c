//! Sealed records: how every value the job store keeps is framed.
//!
//! ```text
//! zkr1 ‖ blake3(rest) [32] ‖ rest
//! rest = table tag [1] ‖ key length [u32 le] ‖ key ‖ value length [u32 le] ‖ value
//! ```
//!
//! The checksum makes a flipped bit an error that names the record instead of data served
//! wrong (redb checks its pages only when asked, and a plain open may trust a damaged file).
//! The tag and key inside the seal bind a value to the place it is stored: a record moved to
//! another job's key, or another table, does not open there. And because a sealed record says
//! what it is and how long it is, records can be carved out of a file whose database
//! structure is lost ([`carve`]) — what `zkw worker store salvage` does when redb cannot open
//! a store at all.

/// The first bytes of a sealed record.
pub const MAGIC: &[u8; 4] = b"zkr1";

const HEADER: usize = MAGIC.len() + 32;

/// The table a sealed record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tag {
    /// A job record (state and history).
    Job,
    /// A job's quantized input.
    Input,
    /// A job's receipt.
    Receipt,
    /// An idempotency key's entry: the job it names and the request's fingerprint.
    Idempotency,
}

impl Tag {
    fn byte(self) -> u8 {
        match self {
            Tag::Job => b'j',
            Tag::Input => b'i',
            Tag::Receipt => b'r',
            Tag::Idempotency => b'k',
        }
    }

    fn from_byte(b: u8) -> Option<Tag> {
        Some(match b {
            b'j' => Tag::Job,
            b'i' => Tag::Input,
            b'r' => Tag::Receipt,
            b'k' => Tag::Idempotency,
            _ => return None,
        })
    }

    /// What the record is, in words.
    pub fn noun(self) -> &'static str {
        match self {
            Tag::Job => "record",
            Tag::Input => "input",
            Tag::Receipt => "receipt",
            Tag::Idempotency => "idempotency entry",
        }
    }
}

/// Seals `value`, stored under `key` in `tag`'s table.
pub fn seal(tag: Tag, key: &str, value: &[u8]) -> Vec<u8> {
    let mut rest = Vec::with_capacity(9 + key.len() + value.len());
    rest.push(tag.byte());
    rest.extend_from_slice(&len32(key.len()).to_le_bytes());
    rest.extend_from_slice(key.as_bytes());
    rest.extend_from_slice(&len32(value.len()).to_le_bytes());
    rest.extend_from_slice(value);
    let mut out = Vec::with_capacity(HEADER + rest.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(blake3::hash(&rest).as_bytes());
    out.extend_from_slice(&rest);
    out
}

fn len32(n: usize) -> u32 {
    // The worker's messages are capped far below 4 GiB.
    u32::try_from(n).expect("a stored value is under 4 GiB")
}

/// Why a stored record does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    /// The bytes end before the record does.
    #[error("it is cut short")]
    Short,
    /// The checksum does not match the bytes.
    #[error("its checksum does not match")]
    Checksum,
    /// The record is sound but sealed for another key or table (moved, or a store bug).
    #[error("it was sealed as the {noun} of `{key}`")]
    Misplaced {
        /// What it was sealed as.
        noun: &'static str,
        /// The key it was sealed under.
        key: String,
    },
    /// The value carries no seal (every value is sealed since the store was opened by a
    /// worker that seals: see [`super::JobStore::open`]).
    #[error("it carries no seal")]
    Unsealed,
    /// The bytes after the record are not empty.
    #[error("{0} bytes follow it")]
    Trailing(usize),
}

/// A sealed record, its checksum verified: its table, key and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed<'a> {
    /// Its table.
    pub tag: Tag,
    /// Its key.
    pub key: &'a str,
    /// Its value.
    pub value: &'a [u8],
    /// How many bytes the record takes.
    pub len: usize,
}

/// Reads the sealed record at the start of `bytes` (`None` when they do not start with
/// [`MAGIC`]).
pub fn parse(bytes: &[u8]) -> Option<Result<Sealed<'_>, Damage>> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    Some(parse_after_magic(rest))
}

fn parse_after_magic(rest: &[u8]) -> Result<Sealed<'_>, Damage> {
    let (sum, body) = rest.split_at_checked(32).ok_or(Damage::Short)?;
    let take = |at: usize, n: usize| body.get(at..at + n).ok_or(Damage::Short);
    let take32 = |at: usize| -> Result<usize, Damage> {
        let b: [u8; 4] = take(at, 4)?.try_into().expect("4 bytes");
        Ok(u32::from_le_bytes(b) as usize)
    };
    let tag = *take(0, 1)?.first().expect("1 byte");
    let klen = take32(1)?;
    if klen > MAX_KEY {
        return Err(Damage::Checksum);
    }
    let key = take(5, klen)?;
    let vlen = take32(5 + klen)?;
    let value = take(9 + klen, vlen)?;
    let end = 9 + klen + vlen;
    if blake3::hash(&body[..end]).as_bytes() != sum {
        return Err(Damage::Checksum);
    }
    let tag = Tag::from_byte(tag).ok_or(Damage::Checksum)?;
    let key = std::str::from_utf8(key).map_err(|_| Damage::Checksum)?;
    Ok(Sealed {
        tag,
        key,
        value,
        len: HEADER + end,
    })
}

/// Opens a whole stored value that must be `tag`'s record of `key`.
pub fn open<'a>(tag: Tag, key: &str, bytes: &'a [u8]) -> Result<&'a [u8], Damage> {
    let sealed = parse(bytes).ok_or(Damage::Unsealed)??;
    if sealed.len != bytes.len() {
        return Err(Damage::Trailing(bytes.len() - sealed.len));
    }
    if sealed.tag != tag || sealed.key != key {
        return Err(Damage::Misplaced {
            noun: sealed.tag.noun(),
            key: sealed.key.to_string(),
        });
    }
    Ok(sealed.value)
}

/// The longest key a record may have (job ids are 32 characters, idempotency keys are
/// capped far below): a longer one is damage, and not hashed.
pub const MAX_KEY: usize = 4 << 10;

/// What [`carve`] found.
#[derive(Debug)]
pub struct Carved<'a> {
    /// Every sound sealed record, in file order.
    pub records: Vec<Sealed<'a>>,
    /// Whether the whole file was searched (false: the work bound stopped it).
    pub complete: bool,
}

/// Every sound sealed record found anywhere in `bytes` (a store file whose structure is
/// lost), in file order. Old versions of a record that the database had freed but not yet
/// overwritten are found too: the caller picks among them. The bytes hashed are bounded (four
/// times the file, plus 64 MiB): a file crafted with a magic every few bytes, each claiming
/// the rest of the file, cannot make it quadratic.
pub fn carve(bytes: &[u8]) -> Carved<'_> {
    let mut budget = bytes.len().saturating_mul(4).saturating_add(64 << 20);
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], MAGIC) {
        let start = at + found;
        let rest = &bytes[start + MAGIC.len()..];
        let cost = claimed_len(rest).unwrap_or(0);
        if cost > budget {
            return Carved {
                records,
                complete: false,
            };
        }
        budget -= cost;
        match parse_after_magic(rest) {
            Ok(sealed) => {
                at = start + sealed.len;
                records.push(sealed);
            }
            Err(_) => at = start + 1,
        }
    }
    Carved {
        records,
        complete: true,
    }
}

/// How many bytes a record starting at `rest` (after its magic) would hash, if its lengths
/// fit in `rest`.
fn claimed_len(rest: &[u8]) -> Option<usize> {
    let body = rest.get(32..)?;
    let klen = u32::from_le_bytes(body.get(1..5)?.try_into().ok()?) as usize;
    let vlen = u32::from_le_bytes(body.get(5 + klen..9 + klen)?.try_into().ok()?) as usize;
    let end = 9usize.checked_add(klen)?.checked_add(vlen)?;
    (end <= body.len()).then_some(end)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file crafted to make carving quadratic — a magic every 45 bytes, each claiming the
    /// rest of the file — is searched within the work bound, and stops there.
    #[test]
    fn carving_a_crafted_file_is_bounded() {
        let n = 4 << 20;
        let mut file = vec![0u8; n];
        let mut at = 0;
        while at + 45 < n {
            file[at..at + 4].copy_from_slice(MAGIC);
            let rest = (n - at - 4 - 32 - 9) as u32;
            file[at + 36] = b'j';
            file[at + 37..at + 41].copy_from_slice(&0u32.to_le_bytes());
            file[at + 41..at + 45].copy_from_slice(&rest.to_le_bytes());
            at += 45;
        }
        // Unbounded, this would hash about 190 GB; bounded, about 80 MiB.
        let carved = carve(&file);
        assert!(!carved.complete);
        assert!(carved.records.is_empty());
    }

    #[test]
    fn a_sealed_record_opens_only_where_it_was_sealed() {
        let r = seal(Tag::Input, "job-1", b"[1,2,3]");
        assert_eq!(open(Tag::Input, "job-1", &r), Ok(&b"[1,2,3]"[..]));
        assert_eq!(open(Tag::Input, "job-1", b"[1,2,3]"), Err(Damage::Unsealed));
        assert_eq!(
            open(Tag::Input, "job-2", &r),
            Err(Damage::Misplaced {
                noun: "input",
                key: "job-1".into()
            })
        );
        assert_eq!(
            open(Tag::Job, "job-1", &r).unwrap_err().to_string(),
            "it was sealed as the input of `job-1`"
        );
        let mut longer = r.clone();
        longer.push(0);
        assert_eq!(open(Tag::Input, "job-1", &longer), Err(Damage::Trailing(1)));
        assert_eq!(
            open(Tag::Input, "job-1", &r[..r.len() - 1]),
            Err(Damage::Short)
        );
        assert_eq!(open(Tag::Input, "job-1", &r[..20]), Err(Damage::Short));
    }

    /// Every single bit flipped anywhere after the magic — in the checksum, the tag, a length,
    /// the key or the value — is refused (a length flip is either cut short or a mismatch).
    #[test]
    fn every_flipped_bit_is_refused() {
        let r = seal(Tag::Job, "j", br#"{"state":"QUEUED"}"#);
        for i in MAGIC.len()..r.len() {
            for bit in 0..8 {
                let mut bad = r.clone();
                bad[i] ^= 1 << bit;
                let got = open(Tag::Job, "j", &bad);
                assert!(
                    matches!(
                        got,
                        Err(Damage::Checksum | Damage::Short | Damage::Trailing(_))
                    ),
                    "byte {i} bit {bit}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn records_are_carved_out_of_surrounding_bytes() {
        let a = seal(Tag::Job, "a", b"{}");
        let b = seal(Tag::Receipt, "b", b"receipt");
        let mut damaged = seal(Tag::Input, "c", b"[9]");
        let n = damaged.len();
        damaged[n - 1] ^= 1;
        let mut file = b"zkr1 junk ".to_vec();
        file.extend_from_slice(&a);
        file.extend_from_slice(b"\0\0zk");
        file.extend_from_slice(&damaged);
        file.extend_from_slice(&b);
        file.extend_from_slice(&b[..10]);
        let carved = carve(&file);
        assert!(carved.complete);
        let got: Vec<_> = carved
            .records
            .into_iter()
            .map(|s| (s.tag, s.key, s.value))
            .collect();
        assert_eq!(
            got,
            [
                (Tag::Job, "a", &b"{}"[..]),
                (Tag::Receipt, "b", &b"receipt"[..])
            ]
        );
    }
}
