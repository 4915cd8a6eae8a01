//! The open documents and what the compiler made of each: every open document is compiled as
//! a root, with open documents read from the editor's buffers and other imports from disk.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use lsp_types::Url;

use crate::compile::{self, Compiled, FsLoader, Loader};
use crate::diagnostic::{Diag, Scope};
use crate::source::{FileId, SourceFile};

use super::position::Lines;

/// An open document: the editor's text.
pub struct Document {
    /// The text as the editor last sent it.
    pub text: String,
}

/// The state the server answers from.
#[derive(Default)]
pub struct Workspace {
    /// Open documents by URI.
    pub docs: BTreeMap<Url, Document>,
    /// The compilation of each open document as a root.
    pub analyses: BTreeMap<Url, Arc<Compiled>>,
    /// Each root's last compilation without syntax errors: while a line is being typed, the
    /// item it is in does not parse, and completion still offers the names it defined.
    pub clean: BTreeMap<Url, Arc<Compiled>>,
    /// The URIs diagnostics were last published for (to clear those that have none now).
    published: BTreeSet<Url>,
    /// The workspace's folders, from `initialize`.
    pub roots: Vec<std::path::PathBuf>,
}

/// The name the compiler knows a document by: its path for `file:` URIs, else the URI.
pub fn file_name(uri: &Url) -> String {
    match uri.to_file_path() {
        Ok(path) => path.to_string_lossy().into_owned(),
        Err(()) => uri.to_string(),
    }
}

/// The URI of a file the compiler read, named as [`file_name`] names it.
pub fn file_uri(name: &str) -> Option<Url> {
    if std::path::Path::new(name).is_absolute() {
        Url::from_file_path(name).ok()
    } else {
        Url::parse(name).ok()
    }
}

/// Reads open documents from the editor's buffers, every other file from disk.
struct Overlay<'w> {
    docs: &'w BTreeMap<Url, Document>,
}

impl Loader for Overlay<'_> {
    fn load(&self, path: &str) -> Result<String, String> {
        if let Some(doc) = file_uri(path).and_then(|uri| self.docs.get(&uri)) {
            return Ok(doc.text.clone());
        }
        FsLoader.load(path)
    }
}

impl Workspace {
    /// Opens or replaces a document and recompiles it and every open document importing it.
    /// Returns the URIs recompiled.
    pub fn set(&mut self, uri: Url, text: String) -> Vec<Url> {
        self.docs.insert(uri.clone(), Document { text });
        self.recompile_around(&uri)
    }

    /// Closes a document: its own compilation goes; its importers read it from disk again.
    pub fn close(&mut self, uri: &Url) -> Vec<Url> {
        self.docs.remove(uri);
        self.analyses.remove(uri);
        self.clean.remove(uri);
        self.recompile_around(uri)
    }

    /// Recompiles `uri` (when open) and the open documents whose compilation read it.
    pub fn recompile_around(&mut self, uri: &Url) -> Vec<Url> {
        let name = file_name(uri);
        let mut roots: Vec<Url> = self
            .analyses
            .iter()
            .filter(|(root, c)| *root != uri && c.sources.files.iter().any(|f| f.name == name))
            .map(|(root, _)| root.clone())
            .collect();
        if self.docs.contains_key(uri) {
            roots.push(uri.clone());
        }
        for root in &roots {
            self.recompile(root);
        }
        roots
    }

    fn recompile(&mut self, root: &Url) {
        let Some(doc) = self.docs.get(root) else {
            return;
        };
        let loader = Overlay { docs: &self.docs };
        let compiled = Arc::new(compile::compile_for_editor(
            &file_name(root),
            &doc.text,
            &loader,
        ));
        let parses = !compiled
            .diagnostics
            .iter()
            .any(|d| d.is_error() && d.code.scope() == Scope::Syntax);
        if parses {
            self.clean.insert(root.clone(), compiled.clone());
        }
        self.analyses.insert(root.clone(), compiled);
    }

    /// The compilation to answer questions about `uri` from: the open root that read it and
    /// read the most files (an importer sees the uses in its own files), else its own.
    pub fn analysis_for(&self, uri: &Url) -> Option<View<'_>> {
        let name = file_name(uri);
        self.analyses
            .iter()
            .filter_map(|(root, c)| {
                let id = if root == uri {
                    0
                } else {
                    c.sources.files.iter().position(|f| f.name == name)?
                };
                Some((c.sources.files.len(), root == uri, root, c, id as FileId))
            })
            .max_by_key(|&(files, own, ..)| (files, own))
            .map(|(_, _, root, compiled, file)| View {
                root,
                compiled,
                file,
            })
    }

    /// The diagnostics to show now, per file: a file's own compilation's, unless open
    /// documents import it, whose compilations then speak for it (a file of nodes shared by
    /// several flows is not checked as a flow of its own). Files that had diagnostics and
    /// have none now get an empty list.
    pub fn diagnostics(&mut self) -> Vec<(Url, Vec<lsp_types::Diagnostic>)> {
        let mut by_file: BTreeMap<Url, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        let imported_elsewhere = |root: &Url| {
            let name = file_name(root);
            self.analyses.iter().any(|(other, c)| {
                other != root && c.sources.files.iter().skip(1).any(|f| f.name == name)
            })
        };
        let speaking: Vec<(&Url, &Arc<Compiled>)> = self
            .analyses
            .iter()
            .filter(|(root, _)| !imported_elsewhere(root))
            .collect();
        for (root, compiled) in speaking {
            for (id, file) in compiled.sources.files.iter().enumerate() {
                let Some(uri) = (if id == 0 {
                    Some(root.clone())
                } else {
                    file_uri(&file.name)
                }) else {
                    continue;
                };
                let list = by_file.entry(uri).or_default();
                for d in compiled
                    .diagnostics
                    .iter()
                    .filter(|d| d.file == id as FileId)
                {
                    let d = to_lsp(d, file);
                    if !list.contains(&d) {
                        list.push(d);
                    }
                }
            }
        }
        for uri in std::mem::take(&mut self.published) {
            by_file.entry(uri).or_default();
        }
        self.published = by_file
            .iter()
            .filter(|(_, d)| !d.is_empty())
            .map(|(u, _)| u.clone())
            .collect();
        by_file.into_iter().collect()
    }
}

/// A compiler diagnostic as the editor shows it: the message, the label and the help line,
/// the code, and the notes as related locations.
pub fn to_lsp(d: &Diag, file: &SourceFile) -> lsp_types::Diagnostic {
    use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString};
    let lines = Lines::new(&file.text, file.lines());
    let severity = if d.is_error() {
        DiagnosticSeverity::ERROR
    } else {
        DiagnosticSeverity::WARNING
    };
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let uri = file_uri(&file.name);
    let related: Vec<DiagnosticRelatedInformation> = uri
        .iter()
        .flat_map(|uri| {
            let primary = (!d.label.is_empty()).then_some((d.span, d.label.as_str()));
            let notes = d.notes.iter().map(|n| (n.span, n.label.as_str()));
            primary
                .into_iter()
                .chain(notes)
                .map(|(span, label)| DiagnosticRelatedInformation {
                    location: Location::new(uri.clone(), lines.range(span)),
                    message: label.to_string(),
                })
        })
        .collect();
    lsp_types::Diagnostic {
        range: lines.range(d.span),
        severity: Some(severity),
        code: Some(NumberOrString::String(d.code.name().to_string())),
        source: Some("chatflow".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        data: Some(serde_json::json!({ "label": d.label, "help": d.help })),
        ..Default::default()
    }
}

/// One compilation seen from one of its files.
#[derive(Clone, Copy)]
pub struct View<'w> {
    /// The open document compiled as the root.
    pub root: &'w Url,
    /// Its compilation.
    pub compiled: &'w Compiled,
    /// The file asked about.
    pub file: FileId,
}

impl<'w> View<'w> {
    /// The file's text.
    pub fn text(&self, id: FileId) -> &'w str {
        self.compiled.sources.get(id).map_or("", |f| &f.text)
    }

    /// Position conversions for a file of the compilation.
    pub fn lines(&self, id: FileId) -> Option<Lines<'w>> {
        let f = self.compiled.sources.get(id)?;
        Some(Lines::new(&f.text, f.lines()))
    }

    /// The URI of a file of the compilation.
    pub fn uri(&self, id: FileId) -> Option<Url> {
        if id == 0 {
            return Some(self.root.clone());
        }
        file_uri(&self.compiled.sources.get(id)?.name)
    }

    /// The symbol index (every compilation of the server has one).
    pub fn symbols(&self) -> Option<&'w crate::compile::symbols::SymbolIndex> {
        self.compiled.symbols.as_ref()
    }

    /// An LSP location of a span in a file of the compilation.
    pub fn location(&self, id: FileId, span: crate::source::Span) -> Option<lsp_types::Location> {
        Some(lsp_types::Location::new(
            self.uri(id)?,
            self.lines(id)?.range(span),
        ))
    }
}
