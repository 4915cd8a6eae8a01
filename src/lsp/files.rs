//! The `.flow` files under the workspace's folders, for workspace symbols in files no open
//! document reads.

use std::path::{Path, PathBuf};

/// Most files looked at, so a workspace opened on a home directory still answers.
const MAX_FILES: usize = 5_000;
/// Deepest folder looked into.
const MAX_DEPTH: usize = 12;

/// The `.flow` files under `roots`, sorted; hidden folders (`.git`), `target` and
/// `node_modules` are skipped, and symbolic links are not followed.
pub fn flow_files(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in roots {
        walk(root, 0, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH || out.len() >= MAX_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if out.len() >= MAX_FILES {
            return;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                walk(&entry.path(), depth + 1, out);
            }
        } else if kind.is_file() && name.ends_with(".flow") {
            out.push(entry.path());
        }
    }
}
