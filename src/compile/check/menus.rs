//! Menus and carousels: options, their targets, and dynamic data blocks.

use super::*;

pub(super) fn check_menu(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    at: Span,
    menu: &ast::Menu,
) {
    if let Some(t) = &menu.text {
        check_text(ctx, file, t);
    }
    let word = match menu.style {
        ast::MenuStyle::QuickReplies => "choose",
        ast::MenuStyle::Buttons => "buttons",
    };
    match &menu.source {
        ast::MenuSource::Static(options) => {
            if options.is_empty() {
                no_options(ctx, file, keyword(at, word), word);
            }
            check_options(ctx, file, scope, options);
        }
        ast::MenuSource::Dynamic(d) => {
            if let Some(label) = &d.label {
                check_text_in(ctx, file, label, Place::ITEM);
            }
            dynamic_block(ctx, file, scope, (&d.list, &d.target, &d.empty));
        }
    }
}

pub(super) fn no_options(ctx: &mut Ctx<'_>, file: FileId, at: Span, word: &str) {
    ctx.error(
        Diag::new(
            Code::NoOptions,
            format!("this `{word}` offers nothing to choose"),
            at,
        )
        .label("an empty block")
        .help("add options such as `\"Track an order\" -> track`"),
        file,
    );
}

/// Option labels, link URLs and targets; labels and payloads must be unique.
pub(super) fn check_options(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    options: &[ast::MenuOption],
) {
    let mut seen: Vec<(AnswerKey, Span)> = Vec::new();
    for o in options {
        check_text(ctx, file, &o.label);
        let mut keys = answer_keys(ctx, file, &o.label);
        match &o.kind {
            ast::OptionKind::Branch(t) => check_target(ctx, file, scope, t),
            ast::OptionKind::Link(url) => check_template(ctx, file, url, Place::USER),
            ast::OptionKind::Postback { payload, target } => {
                check_target(ctx, file, scope, target);
                let key = (None, payload.value.trim().to_lowercase());
                // A payload equal to its own label picks the same option: no clash.
                if !keys.iter().any(|(k, _)| k.1 == key.1) {
                    keys.push((key, payload.span));
                }
            }
        }
        for (key, span) in keys {
            match seen.iter().find(|(k, _)| same_answer(k, &key)) {
                Some(&(_, first)) => duplicate_option(ctx, file, span, first),
                None => seen.push((key, span)),
            }
        }
    }
}

/// What an answer must say to pick a label, per language (`None`: in every language).
type AnswerKey = (Option<String>, String);

/// The answers a label stands for: its text as written (case and spaces ignored), one per
/// language of a translation set.
fn answer_keys(ctx: &Ctx<'_>, file: FileId, label: &ast::Text) -> Vec<(AnswerKey, Span)> {
    let key = |t: &ast::Template| {
        ctx.snippet(file, t.span)
            .trim_matches('"')
            .trim()
            .to_lowercase()
    };
    match label {
        ast::Text::Plain(t) => vec![((None, key(t)), t.span)],
        ast::Text::Translated { texts, .. } => texts
            .iter()
            .map(|(lang, t)| ((Some(lang.name.to_string()), key(t)), t.span))
            .collect(),
    }
}

/// Two keys clash when the texts are equal in a language both are shown in.
fn same_answer(a: &AnswerKey, b: &AnswerKey) -> bool {
    a.1 == b.1 && (a.0.is_none() || b.0.is_none() || a.0 == b.0)
}

pub(super) fn duplicate_option(ctx: &mut Ctx<'_>, file: FileId, span: Span, first: Span) {
    let text = ctx.snippet(file, span).to_string();
    ctx.error(
        Diag::new(
            Code::DuplicateOption,
            format!("{text} is offered twice"),
            span,
        )
        .label("same as an earlier option")
        .note(first, "first offered here")
        .help("an answer picks an option by its text (case ignored), so each must differ; rename or remove one"),
        file,
    );
}

/// `from LIST ... -> node; empty -> node`: the list is an attribute, both targets exist.
pub(super) fn dynamic_block(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    (list, target, empty): (&ast::Ident, &Option<ast::Ident>, &Option<ast::Ident>),
) {
    let span = list.span;
    match ctx.attr_ids.get(list.name.as_str()) {
        Some(&id) => ctx.saw(Sym::Attr(id), file, list.span),
        None => ctx.unknown_attribute(file, &list.name, list.span),
    }
    match target {
        Some(t) => check_target(ctx, file, scope, t),
        None => ctx.error(
            Diag::new(
                Code::MissingProperty,
                format!("the options built from `{}` lead nowhere", list.name),
                span,
            )
            .label("this list's block has no `-> NODE` line")
            .help("add `-> NODE`: where every choice goes (store the chosen element with `save ATTR = item.FIELD`)"),
            file,
        ),
    }
    match empty {
        Some(t) => check_target(ctx, file, scope, t),
        None => ctx.error(
            Diag::new(
                Code::MissingEmpty,
                format!("nothing says where to go when `{}` is empty", list.name),
                span,
            )
            .label("this list's block has no `empty -> NODE` line")
            .help("add `empty -> NODE`: where to go when the list is empty or missing"),
            file,
        ),
    }
}

pub(super) fn check_carousel(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    at: Span,
    c: &ast::Carousel,
) {
    match c {
        ast::Carousel::Static { cards, .. } => {
            if cards.is_empty() {
                no_options(ctx, file, keyword(at, "carousel"), "carousel");
            }
            let mut titles: Vec<(AnswerKey, Span)> = Vec::new();
            for card in cards {
                for (title, span) in answer_keys(ctx, file, &card.title) {
                    match titles.iter().find(|(t, _)| same_answer(t, &title)) {
                        Some(&(_, first)) => duplicate_option(ctx, file, span, first),
                        None => titles.push((title, span)),
                    }
                }
                for t in [Some(&card.title), card.subtitle.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    check_text(ctx, file, t);
                }
                if let Some(image) = &card.image {
                    check_template(ctx, file, image, Place::USER);
                }
                check_options(ctx, file, scope, &card.buttons);
            }
        }
        ast::Carousel::Dynamic {
            list,
            card,
            target,
            empty,
            ..
        } => {
            for t in [&card.title, &card.subtitle, &card.button]
                .into_iter()
                .flatten()
            {
                check_text_in(ctx, file, t, Place::ITEM);
            }
            if let Some(image) = &card.image {
                check_template(ctx, file, image, Place::ITEM);
            }
            dynamic_block(ctx, file, scope, (list, target, empty));
        }
    }
}
