//! Source files and positions in them.
//!
//! Every value read from a TOML file keeps the byte range it came from, so that a
//! problem found in any later pass can still point at the exact place in the file.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// Identifies one loaded file inside a [`Sources`] set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(u32);

/// A byte range in one source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Span { file, range }
    }
}

/// A value together with the place it was written.
#[derive(Clone, Debug)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sp<U> {
        Sp {
            value: f(self.value),
            span: self.span,
        }
    }
}

/// One file as it was read: its path (as the user named it) and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    /// The text is a lossy copy of bytes that were not UTF-8, kept only to show them.
    lossy: bool,
}

/// Every file read during one load, so diagnostics can show the lines they point at.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

/// Where a byte offset lies in a file, counted from 1 as editors do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

impl Sources {
    /// Registers a file and returns its id.
    pub fn add(&mut self, path: PathBuf, text: String) -> FileId {
        self.push(path, text, false)
    }

    /// Registers a file whose bytes were not UTF-8, with `text` their lossy copy: it can
    /// be shown, but [`Sources::find`] never gives it to be read again.
    pub fn add_lossy(&mut self, path: PathBuf, text: String) -> FileId {
        self.push(path, text, true)
    }

    fn push(&mut self, path: PathBuf, text: String, lossy: bool) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile { path, text, lossy });
        id
    }

    /// The file registered under `path`, as it was read, if it was read whole.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.iter()
            .find(|(_, f)| f.path == path && !f.lossy)
            .map(|(id, _)| id)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.file(id).path
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: FileId, offset: usize) -> LineCol {
        line_col(&self.file(id).text, offset)
    }
}

/// Line and column (in characters, from 1) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> LineCol {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineCol {
        line: before.matches('\n').count() + 1,
        col: before[line_start..].chars().count() + 1,
    }
}

/// The largest char boundary at or below `offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
