//! Attributes: interned in order of first appearance, with every place that fills one (an
//! `ask`, a `set`, a `save`, a flow parameter) recorded for type inference.

use super::{AttrDef, Ctx, Filler};
use crate::ir::ValueType;
use crate::source::FileId;
use crate::syntax::ast;

/// `run FLOW(args)` statements: the flow's name and the arguments.
pub(super) type Runs<'a> = Vec<(&'a ast::Ident, &'a [ast::Expr])>;

/// Interns the attributes a node's `ask`s and `set`s fill, and records how they fill them.
pub(super) fn node_fillers<'a>(
    ctx: &mut Ctx<'a>,
    file: FileId,
    node: &'a ast::Node,
    runs: &mut Runs<'a>,
) {
    for stmt in &node.body {
        match &stmt.kind {
            ast::StmtKind::Ask {
                attr,
                kind,
                sensitive,
                ..
            } => {
                fixed(ctx, file, attr, kind_type(kind.as_deref()));
                mark_sensitive(ctx, &attr.name, *sensitive);
            }
            ast::StmtKind::Set {
                attr,
                value,
                sensitive,
            } => {
                let id = intern(ctx, &attr.name);
                ctx.saw_fill(id, file, attr.span);
                ctx.fillers.push((id, Filler::Expr(value)));
                mark_sensitive(ctx, &attr.name, *sensitive);
            }
            ast::StmtKind::Menu(menu) => match &menu.source {
                ast::MenuSource::Static(_) => {
                    if let Some(save) = &menu.save {
                        fixed(ctx, file, save, ValueType::Text);
                    }
                }
                ast::MenuSource::Dynamic(d) => item_saves(ctx, file, &d.saves),
            },
            ast::StmtKind::Carousel(carousel) => match &**carousel {
                ast::Carousel::Static { save, .. } => {
                    if let Some(save) = save {
                        fixed(ctx, file, save, ValueType::Text);
                    }
                }
                ast::Carousel::Dynamic { saves, .. } => item_saves(ctx, file, saves),
            },
            ast::StmtKind::Appointment(a) => item_saves(ctx, file, &a.saves),
            ast::StmtKind::Form(form) => {
                for field in &form.fields {
                    fixed(ctx, file, &field.attr, kind_type(field.kind.as_ref()));
                }
            }
            ast::StmtKind::Run { flow, args } => runs.push((flow, args)),
            ast::StmtKind::AskAi { attr, .. } => fixed(ctx, file, attr, ValueType::Text),
            _ => {}
        }
    }
}

/// A flow's parameters take the types of the arguments every `run` passes.
pub(super) fn run_fillers<'a>(ctx: &mut Ctx<'a>, runs: &Runs<'a>) {
    for &(flow, args) in runs {
        let Some(&f) = ctx.flow_ids.get(flow.name.as_str()) else {
            continue;
        };
        let params = &ctx.flows[f as usize].params;
        if params.len() == args.len() {
            let fills: Vec<_> = params
                .iter()
                .zip(args)
                .map(|(&p, a)| (p, Filler::Expr(a)))
                .collect();
            ctx.fillers.extend(fills);
        }
    }
}

/// `as number` answers are numbers; every other kind of answer is text.
fn kind_type(kind: Option<&ast::Ident>) -> ValueType {
    match kind {
        Some(k) if k.name == "number" => ValueType::Number,
        _ => ValueType::Text,
    }
}

fn fixed<'a>(ctx: &mut Ctx<'a>, file: FileId, attr: &'a ast::Ident, ty: ValueType) {
    let id = intern(ctx, &attr.name);
    ctx.saw_fill(id, file, attr.span);
    ctx.fillers.push((id, Filler::Fixed(ty)));
}

/// `save A = item.path`: list elements come from JSON, so any type.
fn item_saves<'a>(ctx: &mut Ctx<'a>, file: FileId, saves: &'a [ast::ItemSave]) {
    for save in saves {
        fixed(ctx, file, &save.attr, ValueType::Any);
    }
}

/// The attribute's id, assigned in order of first appearance.
pub(super) fn intern<'a>(ctx: &mut Ctx<'a>, name: &'a str) -> u32 {
    if let Some(&id) = ctx.attr_ids.get(name) {
        return id;
    }
    let id = ctx.attrs.len() as u32;
    ctx.attr_ids.insert(name, id);
    ctx.attrs.push(AttrDef {
        name,
        ty: ValueType::Any,
        sensitive: false,
    });
    id
}

/// Marks an attribute `sensitive` (one mark anywhere is enough).
pub(super) fn mark_sensitive<'a>(ctx: &mut Ctx<'a>, name: &'a str, sensitive: bool) {
    if sensitive {
        let id = intern(ctx, name) as usize;
        ctx.attrs[id].sensitive = true;
    }
}
