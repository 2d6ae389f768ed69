//! Transcript files: finding them under a root, telling whether one changed since
//! its cursor, and reading its complete lines from where the cursor stands.
//!
//! Lines are read as bytes and streamed (never a whole file in memory). A last line
//! without its newline may still be being written: it is handed to the parser (a
//! complete JSON object counts) but the cursor stays before it, so when the file
//! grows it is read again and the importer keeps the larger version of the call.

use std::fs::{File, Metadata};
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::store::ImportCursor;

/// How many leading bytes of a file its identity digests.
const HEAD_BYTES: u64 = 1024;

/// Files under `root` (recursively, symlinks not followed) that `wanted` accepts,
/// sorted by path; directories that cannot be read are returned as errors beside.
pub fn walk(root: &Path, wanted: &dyn Fn(&Path) -> bool) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                errors.push((dir, err.to_string()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && wanted(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    (files, errors)
}

/// What a file is: device and inode, plus a digest of its first bytes (up to
/// [`HEAD_BYTES`], or the bytes already consumed when fewer), so a file replaced at
/// the same path (or rewritten in place) is told apart from one that grew.
pub fn identity(file: &File, meta: &Metadata, head_len: u64) -> std::io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let head_len = head_len.min(HEAD_BYTES).min(meta.len());
    // Positioned reads: the file's offset (shared with a reader cloned from it) stays put.
    use std::os::unix::fs::FileExt;
    let mut head = vec![0u8; head_len as usize];
    file.read_exact_at(&mut head, 0)?;
    let digest = Sha256::digest(&head);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{}:{}:{head_len}:{hex}", meta.dev(), meta.ino()))
}

/// The head length an identity was computed over (its third field).
fn identity_head_len(identity: &str) -> u64 {
    identity
        .split(':')
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(HEAD_BYTES)
}

/// Where to read a file from, given its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Same size as when last read: nothing to read.
    Unchanged,
    /// It grew: read on from the cursor (with the parser state saved there).
    Resume {
        position: u64,
        state: String,
        line: u64,
    },
    /// New to us, or it shrank, or it is another file now: read from the start.
    FromStart { reason: &'static str },
}

/// Decides how to read `path` given its stored cursor.
pub fn plan(
    file: &mut File,
    meta: &Metadata,
    cursor: Option<&ImportCursor>,
) -> std::io::Result<Plan> {
    let Some(cursor) = cursor else {
        return Ok(Plan::FromStart { reason: "new" });
    };
    let size = meta.len();
    let same_file = identity(file, meta, identity_head_len(&cursor.identity))? == cursor.identity;
    if !same_file {
        return Ok(Plan::FromStart { reason: "replaced" });
    }
    if size < cursor.size as u64 {
        return Ok(Plan::FromStart { reason: "shrank" });
    }
    if size == cursor.size as u64 {
        return Ok(Plan::Unchanged);
    }
    // A cursor always stands just after a newline: anything else means the file was
    // rewritten (same beginning, other lines) and is read again from the start.
    if cursor.position > 0 {
        use std::os::unix::fs::FileExt;
        let mut before = [0u8; 1];
        if file
            .read_exact_at(&mut before, cursor.position as u64 - 1)
            .is_err()
            || before[0] != b'\n'
        {
            return Ok(Plan::FromStart { reason: "replaced" });
        }
    }
    let line = serde_json::from_str::<serde_json::Value>(&cursor.state)
        .ok()
        .and_then(|state| state.get("line").and_then(|l| l.as_u64()))
        .unwrap_or(0);
    Ok(Plan::Resume {
        position: cursor.position as u64,
        state: cursor.state.clone(),
        line,
    })
}

/// One line as read: its 1-based number, its bytes (no newline), whether it ended
/// with a newline, and the byte offset just after it.
pub struct Line<'a> {
    pub number: u64,
    pub bytes: &'a [u8],
    pub complete: bool,
    pub end: u64,
}

/// Reads lines from a position; `.zst` files are decompressed as a stream.
pub struct LineReader {
    inner: Box<dyn BufRead + Send>,
    buffer: Vec<u8>,
    position: u64,
    number: u64,
    /// Compressed files have no byte positions to resume at: they are read whole.
    compressed: bool,
}

impl LineReader {
    /// Opens `path` at `position` (line `number` already read before it).
    pub fn open(file: File, path: &Path, position: u64, number: u64) -> std::io::Result<Self> {
        let compressed = path.extension().is_some_and(|e| e == "zst");
        let mut file = file;
        let inner: Box<dyn BufRead + Send> = if compressed {
            file.seek(SeekFrom::Start(0))?;
            let decoder = ruzstd::decoding::StreamingDecoder::new(file).map_err(|err| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, err.to_string())
            })?;
            Box::new(BufReader::with_capacity(256 * 1024, decoder))
        } else {
            file.seek(SeekFrom::Start(position))?;
            Box::new(BufReader::with_capacity(256 * 1024, file))
        };
        Ok(LineReader {
            inner,
            buffer: Vec::with_capacity(64 * 1024),
            position: if compressed { 0 } else { position },
            number: if compressed { 0 } else { number },
            compressed,
        })
    }

    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// The next line, or `None` at the end of the file.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        self.buffer.clear();
        let read = self.inner.read_until(b'\n', &mut self.buffer)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        self.position += read as u64;
        let complete = self.buffer.last() == Some(&b'\n');
        let mut bytes = &self.buffer[..];
        if complete {
            bytes = &bytes[..bytes.len() - 1];
        }
        if bytes.last() == Some(&b'\r') {
            bytes = &bytes[..bytes.len() - 1];
        }
        Ok(Some(Line {
            number: self.number,
            bytes,
            complete,
            end: self.position,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn cursor_for(path: &Path, size: u64, position: u64) -> ImportCursor {
        let file = File::open(path).unwrap();
        let meta = file.metadata().unwrap();
        ImportCursor {
            importer: "test".into(),
            location: path.display().to_string(),
            identity: identity(&file, &meta, position).unwrap(),
            size: size as i64,
            position: position as i64,
            state: r#"{"line":1}"#.into(),
        }
    }

    #[test]
    fn growth_resumes_and_replacement_restarts() {
        let dir = std::env::temp_dir().join(format!("ct-files-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.jsonl");
        std::fs::write(&path, b"{\"a\":1}\n").unwrap();
        let cursor = cursor_for(&path, 8, 8);
        let plan_now = |cursor: &ImportCursor| {
            let mut file = File::open(&path).unwrap();
            let meta = file.metadata().unwrap();
            plan(&mut file, &meta, Some(cursor)).unwrap()
        };
        assert_eq!(plan_now(&cursor), Plan::Unchanged);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"b\":2}")
            .unwrap();
        assert!(matches!(
            plan_now(&cursor),
            Plan::Resume {
                position: 8,
                line: 1,
                ..
            }
        ));
        std::fs::write(&path, b"{\"c\":3}\n").unwrap();
        assert_eq!(plan_now(&cursor), Plan::FromStart { reason: "replaced" });
        std::fs::write(&path, b"{\"a\":1}").unwrap();
        let grown = cursor_for(&path, 7, 0);
        std::fs::write(&path, b"{").unwrap();
        assert_eq!(plan_now(&grown), Plan::FromStart { reason: "shrank" });

        // Rewritten with the same first KiB but other lines: the cursor no longer
        // stands after a newline.
        let long = format!("{{\"a\":\"{}\"}}\n", "x".repeat(1_500));
        std::fs::write(&path, &long).unwrap();
        let at_end = cursor_for(&path, long.len() as u64, long.len() as u64);
        std::fs::write(
            &path,
            format!("{}\"}}\n{{\"b\":1}}\n", &long[..long.len() - 40]),
        )
        .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&[b' '; 64])
            .unwrap();
        assert_eq!(plan_now(&at_end), Plan::FromStart { reason: "replaced" });

        std::fs::write(&path, b"x\r\ny\npartial").unwrap();
        let mut reader = LineReader::open(File::open(&path).unwrap(), &path, 0, 0).unwrap();
        let mut seen = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            seen.push((
                line.number,
                String::from_utf8(line.bytes.to_vec()).unwrap(),
                line.complete,
                line.end,
            ));
        }
        assert_eq!(
            seen,
            vec![
                (1, "x".into(), true, 3),
                (2, "y".into(), true, 5),
                (3, "partial".into(), false, 12)
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
