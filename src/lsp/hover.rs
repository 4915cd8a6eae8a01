//! Hover.

use lsp_types::{Hover, HoverParams};

use super::workspace::Workspace;

pub(super) fn hover(_ws: &Workspace, _p: HoverParams) -> Option<Hover> {
    None
}
