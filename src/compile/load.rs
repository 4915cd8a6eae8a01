//! Reading the root file and everything it imports into one [`SourceSet`].
//!
//! Import paths are relative to the importing file's directory. Paths are normalised
//! lexically (`a/./b/../c.flow` is `a/c.flow`) so a file reached by two routes is loaded once.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::Loader;
use crate::diagnostic::{Code, Diag};
use crate::source::{FileId, SourceSet};
use crate::syntax::{self, ast};

/// Every file of one compilation, parsed. `files[i]` belongs to `FileId` `i`.
pub(crate) struct Loaded {
    pub sources: SourceSet,
    pub files: Vec<ast::File>,
    pub diags: Vec<Diag>,
}

/// Loads the root file through `loader`, then its imports.
pub(crate) fn load_path(path: &str, loader: &dyn Loader) -> Loaded {
    match loader.load(path) {
        Ok(text) => load_text(path, text, loader),
        Err(err) => {
            let mut sources = SourceSet::default();
            let id = sources.add(path, "");
            let diag = Diag::new(
                Code::UnreadableFile,
                format!("cannot read `{path}`: {err}"),
                ast::Span::new(0, 0),
            )
            .in_file(id)
            .label("this file")
            .help("check that the path is right and that the file is readable");
            Loaded {
                sources,
                files: vec![ast::File::default()],
                diags: vec![diag],
            }
        }
    }
}

/// Loads a root whose text is already in memory, then its imports.
pub(crate) fn load_text(name: &str, text: String, loader: &dyn Loader) -> Loaded {
    let mut state = State {
        loader,
        sources: SourceSet::default(),
        files: Vec::new(),
        by_key: HashMap::new(),
        stack: Vec::new(),
        diags: Vec::new(),
    };
    state.visit(name.to_string(), normalize(Path::new(name)), text);
    Loaded {
        sources: state.sources,
        files: state
            .files
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect(),
        diags: state.diags,
    }
}

struct State<'l> {
    loader: &'l dyn Loader,
    sources: SourceSet,
    /// Indexed by `FileId`; `None` while the file's imports are still being loaded.
    files: Vec<Option<ast::File>>,
    /// Normalised path -> file, for loading each file once.
    by_key: HashMap<String, FileId>,
    /// Files whose imports are being loaded, outermost first: the current import chain.
    stack: Vec<FileId>,
    diags: Vec<Diag>,
}

impl State<'_> {
    fn visit(&mut self, name: String, key: String, text: String) {
        let id = self.sources.add(name, text);
        self.by_key.insert(key.clone(), id);
        self.files.push(None);
        let text = self.sources.files[id as usize].text.clone();
        let limit = super::max_source_bytes();
        if text.len() > limit {
            self.diags.push(
                Diag::new(
                    Code::SourceTooLarge,
                    format!("this file is larger than the {limit} bytes allowed"),
                    ast::Span::new(0, 0),
                )
                .in_file(id)
                .label("this file")
                .help("split the flow into files joined by `import`, or raise the limit with `--max-source-bytes BYTES`"),
            );
            self.files[id as usize] = Some(ast::File::default());
            return;
        }
        let (file, diags) = syntax::parse(&text);
        self.diags
            .extend(diags.into_iter().map(|d| snap_spans(d, &text).in_file(id)));
        self.stack.push(id);
        for item in &file.items {
            if let ast::Item::Import(import) = item {
                self.import(id, &key, import);
            }
        }
        self.stack.pop();
        self.files[id as usize] = Some(file);
    }

    fn import(&mut self, from: FileId, from_key: &str, import: &ast::Import) {
        let dir = Path::new(from_key).parent().unwrap_or(Path::new(""));
        let key = normalize(&dir.join(import.path.value.as_str()));
        if let Some(&id) = self.by_key.get(&key) {
            if let Some(pos) = self.stack.iter().position(|&f| f == id) {
                self.report_cycle(from, import, pos);
            }
            return;
        }
        match self.loader.load(&key) {
            Ok(text) => self.visit(key.clone(), key, text),
            Err(err) => self.diags.push(
                Diag::new(
                    Code::ImportUnreadable,
                    format!("cannot read imported file `{key}`: {err}"),
                    import.path.span,
                )
                .in_file(from)
                .label("imported here")
                .help("import paths are relative to the directory of the importing file; check the path"),
            ),
        }
    }

    fn report_cycle(&mut self, from: FileId, import: &ast::Import, pos: usize) {
        let mut chain: Vec<&str> = self.stack[pos..]
            .iter()
            .filter_map(|&f| self.sources.get(f).map(|s| s.name.as_str()))
            .collect();
        if let Some(first) = chain.first().copied() {
            chain.push(first);
        }
        let cycle = chain.join(" -> ");
        self.diags.push(
            Diag::new(
                Code::ImportCycle,
                format!("circular import: {cycle}"),
                import.path.span,
            )
            .in_file(from)
            .label("this import closes the cycle")
            .help("files may not import each other in a circle; move the shared items into a file that both import"),
        );
    }
}

/// Keeps a diagnostic's spans inside the text and on char boundaries, whatever the parser
/// computed (a JSON error column, say, may point into a multi-byte character).
fn snap_spans(mut d: Diag, text: &str) -> Diag {
    d.span = snap(d.span, text);
    for n in &mut d.notes {
        n.span = snap(n.span, text);
    }
    d
}

fn snap(span: ast::Span, text: &str) -> ast::Span {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start());
    let mut end = floor(span.end().max(start));
    if end < span.end().min(text.len()) {
        // Extend to the end of the character the span ended inside.
        end = text[end..]
            .chars()
            .next()
            .map_or(end, |c| end + c.len_utf8());
    }
    ast::Span::new(start, end)
}

/// The name under which `import "path"` in the file named `from` loads its file.
pub(crate) fn import_key(from: &str, path: &str) -> String {
    let from = normalize(Path::new(from));
    let dir = Path::new(&from).parent().unwrap_or(Path::new(""));
    normalize(&dir.join(path))
}

/// Lexical normalisation with `/` separators: drops `.`, folds `name/..`.
fn normalize(path: &Path) -> String {
    let mut out = PathBuf::new();
    let mut depth = 0usize; // normal components that a `..` may fold
    for comp in path.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => {
                out.pop();
                depth -= 1;
            }
            Component::ParentDir => out.push(".."),
            Component::Normal(part) => {
                out.push(part);
                depth += 1;
            }
            other => out.push(other.as_os_str()),
        }
    }
    out.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::{ast, normalize, snap};
    use std::path::Path;

    #[test]
    fn spans_snap_to_char_boundaries() {
        let text = "a\u{e9}b"; // `é` is bytes 1..3
        assert_eq!(snap(ast::Span::new(2, 2), text), ast::Span::new(1, 3));
        assert_eq!(snap(ast::Span::new(2, 3), text), ast::Span::new(1, 3));
        assert_eq!(snap(ast::Span::new(1, 2), text), ast::Span::new(1, 3));
        assert_eq!(snap(ast::Span::new(9, 12), text), ast::Span::new(4, 4));
    }

    #[test]
    fn normalize_folds_dots() {
        assert_eq!(normalize(Path::new("a/./b/../c.flow")), "a/c.flow");
        assert_eq!(normalize(Path::new("../x/../y.flow")), "../y.flow");
        assert_eq!(normalize(Path::new("lib.flow")), "lib.flow");
    }
}
