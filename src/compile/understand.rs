//! Understanding free text at compile time: gathers the samples (`intent`, `intents from`,
//! `faq`), checks every intent name the flow uses, and trains the matcher into the IR.

use std::collections::HashMap;
use std::path::Path;

use super::resolve::{Ctx, Sym};
use super::Loader;
use crate::diagnostic::{did_you_mean, Code, Diag};
use crate::ir::{self, NodeId};
use crate::nlu::{self, text::phrase, Model, Normaliser};
use crate::source::FileId;
use crate::syntax::ast::{self, ExprKind, Literal, RefKind, Span, StmtKind};

/// Fewer samples than this make an intent hard to recognise (a warning).
const MIN_SAMPLES: usize = 5;
/// FAQ entries with more questions than this are not checked one by one (each check trains).
const MAX_LEFT_OUT: usize = 20;
/// The bot's threshold when it names none.
pub(crate) const DEFAULT_THRESHOLD: f64 = 0.5;

/// One class being gathered: its name, samples, and where it was declared.
struct Gathered {
    name: String,
    samples: Vec<(String, FileId, Span)>,
    declared: (FileId, Span),
    faq: Option<ir::FaqAnswer>,
}

/// Builds the matcher, or `None` when the flow declares no intents, FAQ or synonyms.
pub(crate) fn build(ctx: &mut Ctx<'_>, loader: &dyn Loader) -> Option<ir::Understanding> {
    let mut classes: Vec<Gathered> = Vec::new();
    let mut normaliser = Normaliser {
        language: ctx
            .languages
            .first()
            .map(|l| l.to_string())
            .or(Some("en".into())),
        synonyms: Vec::new(),
    };
    let mut faqs = Vec::new();
    let mut any = false;
    let files = ctx.files;
    for (file, ast_file) in files.iter().enumerate() {
        let file = file as FileId;
        for item in &ast_file.items {
            match item {
                ast::Item::Intent(i) => {
                    any = true;
                    let c = class(&mut classes, &i.name.name, (file, i.name.span));
                    c.samples.extend(
                        i.samples
                            .iter()
                            .map(|s| (s.value.to_string(), file, s.span)),
                    );
                }
                ast::Item::IntentsFrom(from) => {
                    any = true;
                    for (phrase, intent, span) in read_csv(ctx, loader, file, from) {
                        class(&mut classes, &intent, (file, span))
                            .samples
                            .push((phrase, file, span));
                    }
                }
                ast::Item::Synonyms(s) => {
                    any = true;
                    normaliser
                        .synonyms
                        .extend(s.rules.iter().map(|r| nlu::Synonym {
                            variants: r.variants.iter().map(|v| phrase(&v.value)).collect(),
                            canonical: r.canonical.value.to_string(),
                        }));
                }
                ast::Item::Faq(f) => {
                    any = true;
                    faqs.push((file, f));
                }
                _ => {}
            }
        }
    }
    for (n, (file, f)) in faqs.iter().enumerate() {
        let answer = match &f.answer {
            ast::FaqAnswer::Say(t) => {
                known_attrs(ctx, *file, t);
                ir::FaqAnswer::Say(super::lower::text(ctx, t))
            }
            ast::FaqAnswer::Goto(node) => ir::FaqAnswer::Goto(node_id(ctx, *file, node)?),
        };
        classes.push(Gathered {
            name: format!("faq#{}", n + 1),
            samples: f
                .questions
                .iter()
                .map(|q| (q.value.to_string(), *file, q.span))
                .collect(),
            declared: (*file, f.span),
            faq: Some(answer),
        });
    }
    let names: Vec<String> = classes
        .iter()
        .filter(|c| c.faq.is_none())
        .map(|c| c.name.clone())
        .collect();
    let reads_intents = check_uses(ctx, &names);
    if !any && !reads_intents {
        return None;
    }
    check_samples(ctx, &classes);
    let threshold = bot_threshold(ctx);
    let routes = routes(ctx, &names);
    let samples: Vec<(Vec<String>, usize)> = classes
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.samples.iter().map(move |s| (s.0.clone(), i)))
        .map(|(text, i)| (normaliser.features(&text), i))
        .collect();
    let model = match Model::train(&samples, classes.len()) {
        Ok(model) => model,
        Err(e) => {
            let (file, span) = classes.first().map_or((0, Span::default()), |c| c.declared);
            ctx.error(
                Diag::new(Code::IntentsFile, e.to_string(), span)
                    .label("samples")
                    .help("add samples that differ from one intent to another"),
                file,
            );
            return None;
        }
    };
    let understanding = ir::Understanding {
        normaliser,
        threshold,
        classes: classes
            .iter()
            .map(|c| ir::Class {
                name: c.name.clone(),
                faq: c.faq.clone(),
            })
            .collect(),
        model,
        routes,
    };
    check_faq_overlap(ctx, &classes, &samples, &understanding);
    Some(understanding)
}

/// An FAQ answer may insert attributes the flow fills, like any `say`.
fn known_attrs(ctx: &mut Ctx<'_>, file: FileId, text: &ast::Text) {
    let templates: Vec<&ast::Template> = match text {
        ast::Text::Plain(t) => vec![t],
        ast::Text::Translated { texts, .. } => texts.iter().map(|(_, t)| t).collect(),
    };
    for part in templates.iter().flat_map(|t| &t.parts) {
        let ast::TemplatePart::Ref(r) = part else {
            continue;
        };
        if let RefKind::Attr(name) = &r.kind {
            if let Some(&id) = ctx.attr_ids.get(name.as_str()) {
                ctx.saw(Sym::Attr(id), file, r.span);
            } else {
                ctx.error(
                    Diag::new(
                        Code::UnknownAttribute,
                        format!("the FAQ answer inserts `{name}`, which nothing fills"),
                        r.span,
                    )
                    .label("unknown attribute")
                    .help("insert an attribute that an `ask`, `set` or API `save` fills"),
                    file,
                );
            }
        }
    }
}

fn class<'c>(classes: &'c mut Vec<Gathered>, name: &str, at: (FileId, Span)) -> &'c mut Gathered {
    let i = match classes.iter().position(|c| c.name == name) {
        Some(i) => i,
        None => {
            classes.push(Gathered {
                name: name.to_string(),
                samples: Vec::new(),
                declared: at,
                faq: None,
            });
            classes.len() - 1
        }
    };
    &mut classes[i]
}

fn node_id(ctx: &mut Ctx<'_>, file: FileId, node: &ast::Ident) -> Option<NodeId> {
    if let Some(&id) = ctx.node_ids.get(node.name.as_str()) {
        ctx.saw(Sym::Node(id), file, node.span);
        return Some(id);
    }
    let names: Vec<&str> = ctx.nodes.iter().map(|n| n.ast.name.name.as_str()).collect();
    let help = did_you_mean(&node.name, names).unwrap_or_else(|| "name an existing node".into());
    ctx.error(
        Diag::new(
            Code::UnknownNode,
            format!("no node is named `{}`", node.name),
            node.span,
        )
        .label("unknown node")
        .help(help),
        file,
    );
    None
}

/// `intents from "file.csv"`: one `phrase,intent` per line (RFC 4180 quoting; a first line
/// `phrase,intent` is a header). Problems are reported at the item.
fn read_csv(
    ctx: &mut Ctx<'_>,
    loader: &dyn Loader,
    file: FileId,
    from: &ast::IntentsFrom,
) -> Vec<(String, String, Span)> {
    let dir = Path::new(&ctx.sources[file as usize].name)
        .parent()
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let path = dir
        .join(from.path.value.as_str())
        .to_string_lossy()
        .into_owned();
    let text = match loader.load(&path) {
        Ok(text) => text,
        Err(e) => {
            ctx.error(
                Diag::new(
                    Code::IntentsFile,
                    format!("cannot read the intents file `{path}`"),
                    from.path.span,
                )
                .label(e)
                .help("the path is relative to this flow file"),
                file,
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || n == 0 && phrase(line) == "phrase intent" {
            continue;
        }
        match csv_row(line) {
            Some((p, intent)) if valid_name(&intent) && !p.trim().is_empty() => {
                out.push((p, intent, from.path.span));
            }
            _ => {
                ctx.error(
                    Diag::new(
                        Code::IntentsFile,
                        format!("line {} of `{path}` is not `phrase,intent`", n + 1),
                        from.path.span,
                    )
                    .label(format!("line {}: {}", n + 1, clip(line)))
                    .help("write one sample per line: the phrase (quoted if it has a comma), a comma, the intent's name"),
                    file,
                );
                break;
            }
        }
    }
    out
}

fn clip(line: &str) -> String {
    line.chars().take(60).collect()
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `phrase,intent` with the phrase optionally in double quotes (`""` inside for a quote).
fn csv_row(line: &str) -> Option<(String, String)> {
    let line = line.trim_end_matches('\r');
    if let Some(rest) = line.strip_prefix('"') {
        let mut phrase = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().is_some_and(|&(_, d)| d == '"') {
                    chars.next();
                    phrase.push('"');
                    continue;
                }
                let after = rest[i + 1..].strip_prefix(',')?;
                return Some((phrase, after.trim().to_string()));
            }
            phrase.push(c);
        }
        None
    } else {
        let (phrase, intent) = line.rsplit_once(',')?;
        Some((phrase.to_string(), intent.trim().to_string()))
    }
}

/// Few samples (warning) and one sample in two classes (error).
fn check_samples(ctx: &mut Ctx<'_>, classes: &[Gathered]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, c) in classes.iter().enumerate() {
        if c.faq.is_none() && c.samples.len() < MIN_SAMPLES {
            ctx.error(
                Diag::new(
                    Code::FewSamples,
                    format!(
                        "intent `{}` has {} sample{}; {MIN_SAMPLES} or more are recognised better",
                        c.name,
                        c.samples.len(),
                        if c.samples.len() == 1 { "" } else { "s" }
                    ),
                    c.declared.1,
                )
                .label("few samples")
                .help("add ways a visitor might say it, with different words"),
                c.declared.0,
            );
        }
        for (text, file, span) in &c.samples {
            let key = phrase(text);
            match seen.get(&key) {
                Some(&j) if j != i => {
                    let other = &classes[j].name;
                    ctx.error(
                        Diag::new(
                            Code::DuplicateSample,
                            format!("\"{text}\" is a sample of `{}` and of `{other}`", c.name),
                            *span,
                        )
                        .label("sample in two places")
                        .help("a sample belongs to one intent or FAQ entry: keep it in one"),
                        *file,
                    );
                }
                _ => {
                    seen.insert(key, i);
                }
            }
        }
    }
}

/// An FAQ question that the matcher, trained without it, gives to another class (warning):
/// a model trained with the question always knows it, so each is left out in turn.
fn check_faq_overlap(
    ctx: &mut Ctx<'_>,
    classes: &[Gathered],
    samples: &[(Vec<String>, usize)],
    u: &ir::Understanding,
) {
    let mut at = 0;
    for (i, c) in classes.iter().enumerate() {
        let first = at;
        at += c.samples.len();
        if c.faq.is_none() || c.samples.len() > MAX_LEFT_OUT {
            continue;
        }
        for (k, (text, file, span)) in c.samples.iter().enumerate() {
            let rest: Vec<_> = samples
                .iter()
                .enumerate()
                .filter(|&(n, _)| n != first + k)
                .map(|(_, s)| s.clone())
                .collect();
            let Ok(model) = Model::train(&rest, classes.len()) else {
                continue;
            };
            let Some(m) = model.classify(&u.normaliser.features(text)) else {
                continue;
            };
            if m.class == i || m.confidence < u.threshold {
                continue;
            }
            let name = &classes[m.class].name;
            ctx.error(
                Diag::new(
                    Code::FaqOverlap,
                    format!(
                        "the matcher takes \"{text}\" for `{name}` (confidence {:.2}), not for this FAQ entry",
                        m.confidence
                    ),
                    *span,
                )
                .label("question matched elsewhere")
                .help("reword the question, or move overlapping samples out of the other entry"),
                *file,
            );
        }
    }
}

fn bot_threshold(ctx: &mut Ctx<'_>) -> f64 {
    let Some((file, bot)) = ctx.bot else {
        return DEFAULT_THRESHOLD;
    };
    let mut threshold = DEFAULT_THRESHOLD;
    for s in &bot.settings {
        if let ast::BotSetting::Threshold(t) = s {
            if check_threshold(ctx, file, t) {
                threshold = t.value;
            }
        }
    }
    threshold
}

/// A threshold is a confidence, 0 to 1.
pub(crate) fn check_threshold(ctx: &mut Ctx<'_>, file: FileId, t: &ast::Threshold) -> bool {
    if (0.0..=1.0).contains(&t.value) {
        return true;
    }
    ctx.error(
        Diag::new(
            Code::BadThreshold,
            "a threshold is a confidence from 0 to 1",
            t.span,
        )
        .label("out of range")
        .help("write a number such as `threshold 0.6`"),
        file,
    );
    false
}

fn routes(ctx: &mut Ctx<'_>, names: &[String]) -> Vec<(String, NodeId)> {
    let Some((file, bot)) = ctx.bot else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in &bot.settings {
        if let ast::BotSetting::Route { intent, target } = s {
            let known = known_intent(ctx, file, intent, names);
            if let (true, Some(node)) = (known, node_id(ctx, file, target)) {
                out.push((intent.name.to_string(), node));
            }
        }
    }
    out
}

fn known_intent(ctx: &mut Ctx<'_>, file: FileId, name: &ast::Ident, names: &[String]) -> bool {
    known_name(ctx, file, &name.name, name.span, names, false)
}

/// Whether `name` is a declared intent (or `none`, where `none_ok`); reports it otherwise.
fn known_name(
    ctx: &mut Ctx<'_>,
    file: FileId,
    name: &str,
    span: Span,
    names: &[String],
    none_ok: bool,
) -> bool {
    if names.iter().any(|n| n == name) {
        ctx.saw(Sym::Intent(name.to_string()), file, span);
        return true;
    }
    if none_ok && name == "none" {
        return true;
    }
    let help = match did_you_mean(name, names.iter().map(String::as_str)) {
        Some(hint) => hint,
        None if names.is_empty() => "declare it: `intent NAME { \"a sample\" ... }`".into(),
        None => format!("the intents are: {}", names.join(", ")),
    };
    ctx.error(
        Diag::new(
            Code::UnknownIntent,
            format!("no intent is named `{name}`"),
            span,
        )
        .label("unknown intent")
        .help(help),
        file,
    );
    false
}

/// Checks every intent name the nodes and tests use; says whether the flow reads intents
/// (or `sys.sentiment`) at all.
fn check_uses(ctx: &mut Ctx<'_>, names: &[String]) -> bool {
    let mut uses: Vec<(FileId, String, Span, bool)> = Vec::new();
    let mut reads = false;
    for node in &ctx.nodes {
        for stmt in &node.ast.body {
            match &stmt.kind {
                StmtKind::Menu(menu) => {
                    if let ast::MenuSource::Static(options) = &menu.source {
                        for o in options {
                            if let Some(i) = &o.intent {
                                uses.push((node.file, i.name.to_string(), i.span, false));
                            }
                        }
                    }
                }
                StmtKind::Branch(b) => {
                    for arm in &b.arms {
                        intent_tests(&arm.cond, &mut |name, span| {
                            uses.push((node.file, name.to_string(), span, true));
                        });
                        reads |= reads_sys(&arm.cond);
                    }
                }
                _ => {}
            }
        }
    }
    for (file, test) in &ctx.tests {
        for step in &test.steps {
            if let ast::TestStepKind::ExpectIntent(i) = &step.kind {
                uses.push((*file, i.name.to_string(), i.span, true));
            }
        }
    }
    for (file, name, span, none_ok) in &uses {
        known_name(ctx, *file, name, *span, names, *none_ok);
    }
    reads || !uses.is_empty()
}

/// Calls `found` for each `sys.intent == "NAME"` (or `!=`) in a condition.
fn intent_tests(e: &ast::Expr, found: &mut dyn FnMut(&str, Span)) {
    match &e.kind {
        ExprKind::Or(a, b) | ExprKind::And(a, b) => {
            intent_tests(a, found);
            intent_tests(b, found);
        }
        ExprKind::Not(a) => intent_tests(a, found),
        ExprKind::Cmp { lhs, rhs, .. } => {
            if let (ExprKind::Ref(r), ExprKind::Lit(Literal::String(name))) = (&lhs.kind, &rhs.kind)
            {
                if r.kind == RefKind::Sys("intent".into()) {
                    found(name, rhs.span);
                }
            }
        }
        _ => {}
    }
}

/// Whether a condition reads `sys.intent`, `sys.intent_confidence` or `sys.sentiment`.
fn reads_sys(e: &ast::Expr) -> bool {
    match &e.kind {
        ExprKind::Or(a, b) | ExprKind::And(a, b) => reads_sys(a) || reads_sys(b),
        ExprKind::Not(a) => reads_sys(a),
        ExprKind::Cmp { lhs, rhs, .. } => reads_sys(lhs) || reads_sys(rhs),
        ExprKind::Ref(r) => {
            matches!(&r.kind, RefKind::Sys(n) if ["intent", "intent_confidence", "sentiment"].contains(&n.as_str()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_plain_and_quoted() {
        assert_eq!(
            csv_row("where is my order,order_status"),
            Some(("where is my order".into(), "order_status".into()))
        );
        assert_eq!(
            csv_row("\"hi, \"\"bot\"\"\",greet\r"),
            Some(("hi, \"bot\"".into(), "greet".into()))
        );
        assert_eq!(csv_row("no comma here"), None);
        assert_eq!(csv_row("\"unclosed,greet"), None);
    }
}
