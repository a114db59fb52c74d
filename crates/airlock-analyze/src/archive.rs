//! Reading a package tarball as a bounded stream, in memory, never onto disk.
//!
//! Tarballs come from attackers. Every entry is checked before a byte of it is kept:
//! paths must stay inside the package (no `..`, no absolute paths), links and device
//! entries are refused, and the number of entries, the size of each, the total size
//! and the compression ratio are capped. A tarball that breaks a rule still yields
//! what was read before it, plus a `tarball-malformed` finding: the analysis goes on,
//! and the finding decides.

use std::io::Read;
use std::sync::Arc;

use airlock_policy::Code;
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

use crate::finding::{Confidence, Finding, Severity};

/// Caps on what one tarball may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_entry_bytes: u64,
    pub max_total_bytes: u64,
    /// Unpacked bytes per compressed byte, checked once past `ratio_floor_bytes`.
    pub max_ratio: u64,
    pub ratio_floor_bytes: u64,
    /// The largest file whose text is kept for analysis; larger ones are noted.
    pub max_text_bytes: u64,
    /// The text kept for analysis from one tarball, all files together: past it,
    /// files are not read as text and the analysis says it is incomplete.
    pub max_kept_text_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 50_000,
            max_entry_bytes: 1024 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_ratio: 200,
            ratio_floor_bytes: 64 * 1024 * 1024,
            max_text_bytes: 16 * 1024 * 1024,
            max_kept_text_bytes: 256 * 1024 * 1024,
        }
    }
}

/// What a file is, as far as its name and first bytes tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// JavaScript or TypeScript source.
    Script,
    Json,
    /// Shell, batch or PowerShell.
    Shell,
    /// Python: read for loaders and stealers, not parsed.
    Python,
    Text,
    Elf,
    MachO,
    Windows,
    Wasm,
    Other,
}

impl FileKind {
    pub fn is_binary(self) -> bool {
        matches!(self, Self::Elf | Self::MachO | Self::Windows | Self::Wasm)
    }
}

/// One regular file of the package.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The path inside the package, without the leading `package/`.
    pub path: String,
    pub size: u64,
    pub kind: FileKind,
    /// The text, for files that may hold code or configuration (shared, so that
    /// scanning can start while the rest of the tarball is still being read).
    pub text: Option<Arc<String>>,
}

/// The files of a tarball, read within [`Limits`].
#[derive(Clone, Debug, Default)]
pub struct Archive {
    pub entries: Vec<Entry>,
    pub compressed_bytes: u64,
    pub unpacked_bytes: u64,
    /// `tarball-malformed` findings: unsafe entries skipped, caps hit, corrupt data.
    pub problems: Vec<Finding>,
    /// Whether reading stopped before the end (a cap or corrupt data).
    pub truncated: bool,
}

impl Entry {
    /// The text, for files that keep it.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref().map(String::as_str)
    }
}

impl Archive {
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.path == path)
    }

    /// Reads a gzipped tarball.
    pub fn read(tgz: &[u8], limits: &Limits) -> Self {
        Self::read_streaming(tgz, limits, |_| {})
    }

    /// Reads a gzipped tarball, handing each entry with text to `on_text` as soon
    /// as it is read.
    pub(crate) fn read_streaming(
        tgz: &[u8],
        limits: &Limits,
        mut on_text: impl FnMut(&Entry),
    ) -> Self {
        let mut archive = Self {
            compressed_bytes: tgz.len() as u64,
            ..Self::default()
        };
        let mut tar = tar::Archive::new(GzDecoder::new(tgz));
        let entries = match tar.entries() {
            Ok(entries) => entries,
            Err(error) => {
                archive.problem(format!("not a gzipped tarball: {error}"), "");
                archive.truncated = true;
                return archive;
            }
        };
        let mut count = 0usize;
        let mut kept_total = 0u64;
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    archive.problem(format!("the archive is corrupt: {error}"), "");
                    archive.truncated = true;
                    break;
                }
            };
            count += 1;
            if count > limits.max_entries {
                archive.problem(format!("more than {} entries", limits.max_entries), "");
                archive.truncated = true;
                break;
            }
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let entry_type = entry.header().entry_type();
            // Directories and the tar format's own metadata entries carry no files.
            if entry_type.is_dir()
                || entry_type.is_pax_global_extensions()
                || entry_type.is_pax_local_extensions()
                || entry_type.is_gnu_longname()
                || entry_type.is_gnu_longlink()
            {
                continue;
            }
            if !(entry_type.is_file() || entry_type == tar::EntryType::Continuous) {
                let what = if entry_type.is_symlink() || entry_type.is_hard_link() {
                    "a link"
                } else {
                    "a device or special file"
                };
                archive.problem(format!("entry `{raw_path}` is {what}; skipped"), &raw_path);
                continue;
            }
            let Some(path) = package_path(&raw_path) else {
                archive.problem(
                    format!("entry `{raw_path}` points outside the package; skipped"),
                    &raw_path,
                );
                continue;
            };
            let size = entry.size();
            if size > limits.max_entry_bytes {
                archive.problem(
                    format!(
                        "entry `{path}` is {size} bytes, over the {} byte cap",
                        limits.max_entry_bytes
                    ),
                    &path,
                );
                archive.truncated = true;
                break;
            }
            archive.unpacked_bytes += size;
            if archive.unpacked_bytes > limits.max_total_bytes {
                archive.problem(
                    format!("unpacks to more than {} bytes", limits.max_total_bytes),
                    &path,
                );
                archive.truncated = true;
                break;
            }
            if archive.unpacked_bytes > limits.ratio_floor_bytes
                && archive.unpacked_bytes / archive.compressed_bytes.max(1) > limits.max_ratio
            {
                archive.problem(
                    format!(
                        "compression ratio over {}:1 ({} bytes from {}): a decompression bomb",
                        limits.max_ratio, archive.unpacked_bytes, archive.compressed_bytes
                    ),
                    &path,
                );
                archive.truncated = true;
                break;
            }
            let mut probe = [0u8; PROBE];
            let mut probed = 0;
            let mut kept =
                Vec::with_capacity(usize::try_from(size.min(limits.max_text_bytes)).unwrap_or(0));
            let wanted = keeps_text(&path) && size <= limits.max_text_bytes;
            if wanted && kept_total + size > limits.max_kept_text_bytes {
                if kept_total <= limits.max_kept_text_bytes {
                    archive.incomplete(format!(
                        "holds more than {} MiB of code and text; `{path}` and the files after it were not analysed",
                        limits.max_kept_text_bytes / (1024 * 1024)
                    ));
                }
                // Past the budget, once and for all.
                kept_total = limits.max_kept_text_bytes + 1;
            }
            let read = if wanted && kept_total + size <= limits.max_kept_text_bytes {
                kept_total += size;
                entry.read_to_end(&mut kept).map(|_| ())
            } else {
                let head_read = read_head(&mut entry, &mut probe).map(|filled| probed = filled);
                // A font or an image that starts as text is read whole: it may be code.
                let media_text = head_read.is_ok() && text_under_media(&path, &probe[..probed]);
                if media_text
                    && size <= limits.max_text_bytes
                    && kept_total + size <= limits.max_kept_text_bytes
                {
                    kept_total += size;
                    kept.extend_from_slice(&probe[..probed]);
                    entry.read_to_end(&mut kept).map(|_| ())
                } else {
                    if media_text {
                        archive.incomplete(format!(
                            "`{path}` is named as a font, an image or a sound but starts as text, and is past what the analyser reads; what it holds was not analysed"
                        ));
                    }
                    std::io::copy(&mut entry, &mut std::io::sink())
                        .map(|_| ())
                        .and(head_read)
                }
            };
            if let Err(error) = read {
                archive.problem(format!("entry `{path}` is cut short: {error}"), &path);
                archive.truncated = true;
                break;
            }
            let mut head = [0u8; 4];
            head.iter_mut()
                .zip(if kept.is_empty() {
                    &probe[..probed]
                } else {
                    &kept[..]
                })
                .for_each(|(slot, byte)| *slot = *byte);
            let kind = kind_of(&path, head);
            if kind == FileKind::Script && size > limits.max_text_bytes {
                archive.incomplete(too_large(&path, size, limits));
            }
            let text = (!kept.is_empty()
                && !kind.is_binary()
                && !kept[..kept.len().min(512)].contains(&0))
            .then(|| text_of(kept));
            let (kind, text) = disguised_script(&path, kind, text);
            let entry = Entry {
                path,
                size,
                kind,
                text,
            };
            if entry.text.is_some() {
                on_text(&entry);
            }
            archive.entries.push(entry);
        }
        archive
    }

    /// Files given by path (inside the package) and contents, as a directory walk
    /// yields them.
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>, limits: &Limits) -> Self {
        let mut archive = Self::default();
        for (path, contents) in files {
            let size = contents.len() as u64;
            archive.unpacked_bytes += size;
            let mut head = [0u8; 4];
            head.iter_mut()
                .zip(&contents)
                .for_each(|(slot, byte)| *slot = *byte);
            let kind = kind_of(&path, head);
            if kind == FileKind::Script && size > limits.max_text_bytes {
                archive.incomplete(too_large(&path, size, limits));
            }
            let text = ((keeps_text(&path)
                || text_under_media(&path, &contents[..contents.len().min(PROBE)]))
                && size <= limits.max_text_bytes
                && !kind.is_binary()
                && !contents[..contents.len().min(512)].contains(&0))
            .then(|| text_of(contents));
            let (kind, text) = disguised_script(&path, kind, text);
            archive.entries.push(Entry {
                path,
                size,
                kind,
                text,
            });
        }
        archive
    }

    /// Part of the package was not analysed: the verdict cannot rest on it.
    fn incomplete(&mut self, message: String) {
        self.problems.push(
            Finding::new(
                Code::AnalysisIncomplete,
                Severity::High,
                Confidence::High,
                message,
            )
            .reach(crate::finding::Reach::Install),
        );
    }

    fn problem(&mut self, message: String, path: &str) {
        let mut finding = Finding::new(
            Code::TarballMalformed,
            Severity::High,
            Confidence::High,
            message,
        );
        if !path.is_empty() {
            finding = finding.at(path, None, "");
        }
        self.problems.push(finding);
    }
}

/// The bytes as text, without a copy when they are valid UTF-8.
fn text_of(bytes: Vec<u8>) -> Arc<String> {
    Arc::new(
        String::from_utf8(bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned()),
    )
}

/// Reads the first bytes of an entry into `head`; how many there were.
fn read_head(reader: &mut impl Read, head: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The path inside the package: the first component (`package/`, whatever its name,
/// as npm does) removed; `None` when the path is absolute or climbs out.
pub(crate) fn package_path(raw: &str) -> Option<String> {
    let normalised = raw.replace('\\', "/");
    if normalised.starts_with('/') || normalised.as_bytes().get(1) == Some(&b':') {
        return None;
    }
    let mut parts = Vec::new();
    for part in normalised.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            part => parts.push(part),
        }
    }
    if parts.len() < 2 {
        return None;
    }
    Some(parts[1..].join("/"))
}

/// A script too large to read: code could hide in it, so the verdict cannot rest
/// on the rest. (No popular package ships a script this large.)
fn too_large(path: &str, size: u64, limits: &Limits) -> String {
    format!(
        "`{path}` is a script of {} MiB, larger than the {} MiB the analyser reads; it was not analysed",
        size >> 20,
        limits.max_text_bytes >> 20
    )
}

fn extension(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').map_or("", |(_, extension)| extension)
}

/// Files whose text the analysis reads: code, scripts, extensionless files (often
/// `bin` scripts), and manifests at the root (`package.json`, a spare `package.md`).
/// Data files deeper down (API models, locale tables) are sized, not read.
fn keeps_text(path: &str) -> bool {
    let extension = extension(path).to_ascii_lowercase();
    if matches!(extension.as_str(), "json" | "md") {
        return !path.contains('/') || path.ends_with(".vscode/tasks.json");
    }
    matches!(
        extension.as_str(),
        "" | "js"
            | "cjs"
            | "mjs"
            | "jsx"
            | "ts"
            | "cts"
            | "mts"
            | "json"
            | "sh"
            | "bash"
            | "bat"
            | "cmd"
            | "ps1"
            | "py"
            | "pyw"
            | "gyp"
            | "md"
    ) && !path.ends_with(".d.ts")
}

/// Extensions of binary media: fonts, images, sound and video.
const MEDIA: [&str; 16] = [
    "woff", "woff2", "ttf", "otf", "eot", "png", "jpg", "jpeg", "gif", "ico", "bmp", "webp", "mp3",
    "wav", "mp4", "ogg",
];

/// How many of a media file's first bytes tell text from its format. The formats
/// that open with a word (`wOF2`, `GIF8`, `RIFF`, `true`) follow it with binary
/// fields (sizes, versions, table counts) well within these.
const PROBE: usize = 16;

/// A media file whose first bytes are all text: what it holds is read, since it
/// may be code named as a font or an image (`true;…` is a script, not a TrueType
/// font, when what follows is text too).
fn text_under_media(path: &str, head: &[u8]) -> bool {
    // A byte-order mark, which Node strips from a script it loads.
    let text = head.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(head);
    MEDIA.contains(&extension(path).to_ascii_lowercase().as_str()) && reads_as_text(text)
}

/// Bytes that are text: UTF-8 (the last character may be cut by the end of the
/// probe) without control characters but tabs, line ends and form feeds. The
/// media formats' headers put a NUL, a control byte or a byte UTF-8 refuses
/// (PNG's 0x89, JPEG's 0xFF) within their first 16 bytes.
fn reads_as_text(bytes: &[u8]) -> bool {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // A character cut by the end of the probe.
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

/// A media file holding JavaScript is a script (its kind is its content); one
/// holding other text keeps neither kind nor text.
fn disguised_script(
    path: &str,
    kind: FileKind,
    text: Option<Arc<String>>,
) -> (FileKind, Option<Arc<String>>) {
    if !MEDIA.contains(&extension(path).to_ascii_lowercase().as_str()) {
        return (kind, text);
    }
    match text {
        Some(text) if looks_like_script(&text) => (FileKind::Script, Some(text)),
        _ => (kind, None),
    }
}

/// How scripts open.
const OPENINGS: [&str; 12] = [
    "//",
    "/*",
    "(",
    "!function",
    "var ",
    "let ",
    "const ",
    "function",
    "async ",
    "\"use strict",
    "'use strict",
    "module.exports",
];

/// Text that reads as JavaScript: it opens like a script, or calls what scripts call.
fn looks_like_script(text: &str) -> bool {
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with('<') {
        return false;
    }
    let head = &start[..start.floor_char_boundary(4096)];
    OPENINGS.iter().any(|opening| start.starts_with(opening))
        || ["require(", "eval(", "=>", "function("]
            .iter()
            .any(|call| head.contains(call))
}

/// Whether a file is a script that hides under a media file's name.
pub fn is_disguised_script(entry: &Entry) -> bool {
    entry.kind == FileKind::Script
        && MEDIA.contains(&extension(&entry.path).to_ascii_lowercase().as_str())
}

fn kind_of(path: &str, head: [u8; 4]) -> FileKind {
    match head {
        [0x7f, b'E', b'L', b'F'] => return FileKind::Elf,
        [0xfe, 0xed, 0xfa, 0xce | 0xcf]
        | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
        | [0xca, 0xfe, 0xba, 0xbe] => {
            return FileKind::MachO;
        }
        [b'M', b'Z', ..] => return FileKind::Windows,
        [0, b'a', b's', b'm'] => return FileKind::Wasm,
        _ => {}
    }
    match extension(path).to_ascii_lowercase().as_str() {
        "js" | "cjs" | "mjs" | "jsx" | "ts" | "cts" | "mts" => FileKind::Script,
        "json" => FileKind::Json,
        "sh" | "bash" | "bat" | "cmd" | "ps1" => FileKind::Shell,
        "py" | "pyw" => FileKind::Python,
        "" | "md" | "txt" | "gyp" => FileKind::Text,
        _ => FileKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_font_that_holds_javascript_is_a_script() {
        let text = |body: &str| Some(Arc::new(body.to_owned()));
        let code = format!("{}(async () => {{ eval(x); }})();", " ".repeat(700));
        assert_eq!(
            disguised_script("fonts/a.woff2", FileKind::Other, text(&code)).0,
            FileKind::Script
        );
        // A Git LFS pointer and an SVG are text, not code; neither keeps its text.
        let pointer = "version https://lfs.example.invalid/spec/v1\noid sha256:00\n";
        assert_eq!(
            disguised_script("logo.png", FileKind::Other, text(pointer)),
            (FileKind::Other, None)
        );
        let svg = "<svg><script>function f() {}</script></svg>";
        assert_eq!(
            disguised_script("logo.png", FileKind::Other, text(svg)).0,
            FileKind::Other
        );
        // The look stops at a character's edge, wherever the 4 KiB fall.
        let wide = format!("x{}", "é".repeat(3000));
        assert_eq!(
            disguised_script("a.ttf", FileKind::Other, text(&wide)).0,
            FileKind::Other
        );
        assert!(text_under_media("a.png", b"  //"));
        assert!(!text_under_media("a.woff2", b"wOF2\0\x01\0\0\0\0\x12\x34"));
        assert!(!text_under_media("a.gif", b"GIF89a\x64\0\x64\0\xf7\0\0"));
        assert!(!text_under_media("a.js", b"  //"));
        assert!(text_under_media("a.ttf", &[0xef, 0xbb, 0xbf, b'(']));
        // A script that opens with a format's word is still a script.
        assert!(text_under_media("a.ttf", b"true;require('./x')"));
        assert!(text_under_media("a.gif", b"GIF8=1;eval(x)"));
        // Non-ASCII text is text, also when the probe cuts a character in two;
        // the binary headers of real media are not.
        assert!(text_under_media(
            "a.ttf",
            "/*! © Acme */require('./x')".as_bytes()
        ));
        assert!(text_under_media("a.ttf", &"/* ©©©©©©©".as_bytes()[..14]));
        assert!(!text_under_media("a.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(!text_under_media("a.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0"));
        assert!(!text_under_media("a.mp3", b"ID3\x03\0\0\0\0\x0fvTIT2"));
        assert!(!text_under_media(
            "a.gif",
            b"GIF89a\x20\x03\x58\x02\xf7\0\0"
        ));
        assert_eq!(
            disguised_script("a.ttf", FileKind::Other, text("\u{feff}(() => 0)();")).0,
            FileKind::Script
        );
    }

    #[test]
    fn paths_stay_inside_the_package() {
        assert_eq!(
            package_path("package/index.js").as_deref(),
            Some("index.js")
        );
        assert_eq!(package_path("node/lib/a.js").as_deref(), Some("lib/a.js"));
        assert_eq!(
            package_path("package/./lib//a.js").as_deref(),
            Some("lib/a.js")
        );
        assert_eq!(package_path("package/../../etc/passwd"), None);
        assert_eq!(package_path("/etc/passwd"), None);
        assert_eq!(package_path("package\\..\\x"), None);
        assert_eq!(package_path("C:/x/y"), None);
        assert_eq!(package_path("package"), None);
    }

    #[test]
    fn garbage_is_a_finding_not_a_crash() {
        let archive = Archive::read(b"definitely not gzip", &Limits::default());
        assert!(archive.truncated);
        assert_eq!(archive.problems[0].code, Code::TarballMalformed);
    }
}
