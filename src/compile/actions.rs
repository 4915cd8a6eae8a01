//! Checks for the bot-builder actions (docs/actions.md): bot settings and translations,
//! menus, carousels, dynamic data, email, OTP, forms, media, transfer, appointments,
//! sub-flow calls, `set sys.language` and the extra test lines.

use super::check::{
    check_ask_kind, check_call, check_expr, check_target, check_template, check_text, Place,
};
use super::resolve::Ctx;
use super::types::type_name;
use crate::diagnostic::{did_you_mean, Code, Diag};
use crate::ir::{self, SysAttr, ValueType};
use crate::source::FileId;
use crate::syntax::ast::{self, Span, StmtKind};

pub(crate) const OTP_DIGITS: std::ops::RangeInclusive<u32> = 4..=10;
pub(crate) const OTP_TRIES: std::ops::RangeInclusive<u32> = 1..=10;
pub(crate) const OTP_DEFAULT_DIGITS: u32 = 6;
pub(crate) const OTP_DEFAULT_TRIES: u32 = 3;

// ---- bot settings and translations ----

pub(crate) fn check_bot(ctx: &mut Ctx<'_>, file: FileId, bot: &ast::Bot) {
    let mut seen: Vec<(&'static str, Span)> = Vec::new();
    for setting in &bot.settings {
        let (what, span) = match setting {
            ast::BotSetting::Start(n) => ("start", n.span),
            ast::BotSetting::Greeting(t) => {
                check_text(ctx, file, t);
                ("greeting", t.span())
            }
            ast::BotSetting::Avatar(t) => {
                check_template(ctx, file, t, Place::USER);
                ("avatar", t.span)
            }
            ast::BotSetting::Fallback(t) => {
                check_text(ctx, file, t);
                ("fallback", t.span())
            }
            ast::BotSetting::Languages(langs) => {
                duplicate_languages(ctx, file, langs.iter());
                let span = langs.iter().fold(None, |acc: Option<Span>, l| {
                    Some(acc.map_or(l.span, |a| a.to(l.span)))
                });
                ("languages", span.unwrap_or(bot.name.span))
            }
            ast::BotSetting::Webhook(hook) => {
                check_webhook(ctx, file, hook);
                ("webhook", hook.url.span)
            }
        };
        if let Some(&(_, first)) = seen.iter().find(|(w, _)| *w == what) {
            ctx.error(
                Diag::new(
                    Code::DuplicateProperty,
                    format!("the bot has one `{what}`, this is a second one"),
                    span,
                )
                .label("repeated setting")
                .note(first, "first given here")
                .help("remove one of the two lines"),
                file,
            );
        } else {
            seen.push((what, span));
        }
    }
}

/// A webhook needs an absolute http(s) URL and known event names.
fn check_webhook(ctx: &mut Ctx<'_>, file: FileId, hook: &ast::Webhook) {
    let url_ok = url::Url::parse(&hook.url.value)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !url_ok {
        ctx.error(
            Diag::new(
                Code::BadWebhook,
                format!("`{}` is not an http or https URL", hook.url.value),
                hook.url.span,
            )
            .label("not a URL the webhook can post to")
            .help("give an absolute URL, e.g. `\"https://example.com/hooks/chat\"`"),
            file,
        );
    }
    for event in &hook.events {
        if ir::WEBHOOK_EVENTS.contains(&event.name.as_str()) {
            continue;
        }
        let help = match did_you_mean(&event.name, ir::WEBHOOK_EVENTS.iter().copied()) {
            Some(hint) => format!("{hint} The events are {}", ir::WEBHOOK_EVENTS.join(", ")),
            None => format!("the events are {}", ir::WEBHOOK_EVENTS.join(", ")),
        };
        ctx.error(
            Diag::new(
                Code::BadWebhook,
                format!("`{}` is not a webhook event", event.name),
                event.span,
            )
            .label("unknown event")
            .help(help),
            file,
        );
    }
}

/// Reports a language named twice in one list.
fn duplicate_languages<'a>(
    ctx: &mut Ctx<'_>,
    file: FileId,
    langs: impl Iterator<Item = &'a ast::Ident>,
) {
    let mut seen: Vec<&ast::Ident> = Vec::new();
    for lang in langs {
        if let Some(first) = seen.iter().find(|l| l.name == lang.name) {
            ctx.error(
                Diag::new(
                    Code::DuplicateLanguage,
                    format!("language `{}` is given twice", lang.name),
                    lang.span,
                )
                .label("second time")
                .note(first.span, "first given here")
                .help("give each language once"),
                file,
            );
        } else {
            seen.push(lang);
        }
    }
}

/// A translation set: the bot declares languages, each text's language is declared, none
/// is repeated, and (a warning) none of the declared ones is missing.
pub(crate) fn check_translations(
    ctx: &mut Ctx<'_>,
    file: FileId,
    texts: &[(ast::Ident, ast::Template)],
    span: Span,
) {
    if ctx.languages.is_empty() {
        ctx.error(
            Diag::new(
                Code::NoLanguages,
                "a translation set needs the bot's `languages`",
                span,
            )
            .label("texts per language, but the bot declares no language")
            .help(
                "declare the languages in the bot item, e.g. `bot \"Acme\" { languages en, es }`",
            ),
            file,
        );
        return;
    }
    duplicate_languages(ctx, file, texts.iter().map(|(l, _)| l));
    for (lang, _) in texts {
        if !ctx.languages.contains(&lang.name.as_str()) {
            unknown_language(ctx, file, &lang.name, lang.span);
        }
    }
    let missing: Vec<&str> = ctx
        .languages
        .iter()
        .copied()
        .filter(|l| !texts.iter().any(|(t, _)| t.name == *l))
        .collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ");
        ctx.error(
            Diag::new(
                Code::MissingTranslation,
                format!("this message has no text in {list}"),
                span,
            )
            .label("missing a declared language")
            .help(format!(
                "add a line for {list}; until then the bot's first language ({}) is used",
                ctx.languages[0]
            )),
            file,
        );
    }
}

fn unknown_language(ctx: &mut Ctx<'_>, file: FileId, name: &str, span: Span) {
    let langs = ctx.languages.clone();
    let help = did_you_mean(name, langs.iter().copied()).unwrap_or_else(|| {
        if langs.is_empty() {
            "the bot declares no languages: add `languages ...` to the bot item".into()
        } else {
            format!(
                "the declared languages are: {}; add it to the bot's `languages` to use it",
                langs.join(", ")
            )
        }
    });
    ctx.error(
        Diag::new(
            Code::UnknownLanguage,
            format!("language `{name}` is not declared by the bot"),
            span,
        )
        .label("not in the bot's `languages`")
        .help(help),
        file,
    );
}

// ---- statements ----

pub(crate) fn check_set_sys(ctx: &mut Ctx<'_>, file: FileId, name: &ast::Ident, value: &ast::Expr) {
    let ty = check_expr(ctx, file, value);
    if !SysAttr::from_name(&name.name).is_some_and(SysAttr::is_writable) {
        ctx.error(
            Diag::new(
                Code::ReadonlySys,
                format!("`sys.{}` cannot be set", name.name),
                name.span,
            )
            .label("a read-only system attribute")
            .help("`sys.language` is the only system attribute a flow may set; store the value in an attribute of your own"),
            file,
        );
    } else if matches!(ty, ValueType::Number | ValueType::Bool) {
        ctx.error(
            Diag::new(
                Code::TypeMismatch,
                format!(
                    "`sys.language` is a language code, but this is {}",
                    type_name(ty)
                ),
                value.span,
            )
            .label("not text")
            .help("set a language code such as `\"es\"`"),
            file,
        );
    }
}

pub(crate) fn check_run(
    ctx: &mut Ctx<'_>,
    file: FileId,
    span: Span,
    flow: &ast::Ident,
    args: &[ast::Expr],
) {
    for a in args {
        check_expr(ctx, file, a);
    }
    let Some(&f) = ctx.flow_ids.get(flow.name.as_str()) else {
        let help = did_you_mean(&flow.name, ctx.flow_ids.keys().copied())
            .unwrap_or_else(|| "define it with `flow NAME(params) { node ... }`".into());
        ctx.error(
            Diag::new(
                Code::UnknownFlow,
                format!("unknown flow `{}`", flow.name),
                flow.span,
            )
            .label("no flow has this name")
            .help(help),
            file,
        );
        return;
    };
    let def = ctx.flows[f as usize].ast;
    if def.params.len() != args.len() {
        let params = def
            .params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut diag = Diag::new(
            Code::Arity,
            format!(
                "flow `{}` takes {} argument{}, but {} {} given",
                flow.name,
                def.params.len(),
                if def.params.len() == 1 { "" } else { "s" },
                args.len(),
                if args.len() == 1 { "is" } else { "are" }
            ),
            span,
        )
        .label("wrong number of arguments")
        .help(format!("call it as `run {}({params})`", flow.name));
        if ctx.flows[f as usize].file == file {
            diag = diag.note(def.name.span, "the flow is defined here");
        }
        ctx.error(diag, file);
    }
}

/// The statements that are not core ones: menus, carousels and the other actions.
pub(crate) fn check_action(ctx: &mut Ctx<'_>, file: FileId, scope: Option<u32>, stmt: &ast::Stmt) {
    let at = stmt.span;
    match &stmt.kind {
        StmtKind::Menu(menu) => check_menu(ctx, file, scope, at, menu),
        StmtKind::Carousel(c) => check_carousel(ctx, file, scope, at, c),
        StmtKind::Email(email) => {
            let parts = [
                (&email.to, "to"),
                (&email.subject, "subject"),
                (&email.body, "body"),
            ];
            for (part, what) in parts {
                match part {
                    Some(t) => check_template(ctx, file, t, Place::USER),
                    None => missing(ctx, file, keyword(at, "email"), "email", what),
                }
            }
        }
        StmtKind::Otp(otp) => check_otp(ctx, file, scope, at, otp),
        StmtKind::Form(form) => check_form(ctx, file, at, form),
        StmtKind::Media { url, caption, .. } => {
            check_template(ctx, file, url, Place::USER);
            if let Some(c) = caption {
                check_template(ctx, file, c, Place::USER);
            }
        }
        StmtKind::Transfer { to, message, .. } => {
            check_template(ctx, file, to, Place::USER);
            if let Some(m) = message {
                check_text(ctx, file, m);
            }
        }
        StmtKind::Appointment(a) => check_appointment(ctx, file, scope, at, a),
        StmtKind::Goal(_) => {}
        // Core statements are checked by `check::check_stmt`.
        _ => {}
    }
}

/// The first word of a statement, to point at without underlining a whole block.
fn keyword(stmt: Span, word: &str) -> Span {
    Span::new(stmt.start, (stmt.start + word.len()).min(stmt.end))
}

fn missing(ctx: &mut Ctx<'_>, file: FileId, at: Span, action: &str, what: &str) {
    let example = match what {
        "to" => "to \"{email}\"",
        "subject" => "subject \"Your ticket\"",
        "body" => "body \"Hi {name}, ...\"",
        "send" => "send email \"{email}\"",
        "ok" => "ok -> verified",
        "fail" => "fail -> locked",
        "slots" => "slots call free_slots from body.slots",
        "book" => "book call book_slot",
        "booked" => "booked -> confirmed",
        "failed" => "failed -> no_booking",
        _ => "-> NODE",
    };
    ctx.error(
        Diag::new(
            Code::MissingProperty,
            format!("this `{action}` has no `{what}`"),
            at,
        )
        .label(format!("`{what}` is required"))
        .help(format!("add a line such as `{example}` inside the block")),
        file,
    );
}

fn check_menu(ctx: &mut Ctx<'_>, file: FileId, scope: Option<u32>, at: Span, menu: &ast::Menu) {
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
                check_template(ctx, file, label, Place::ITEM);
            }
            dynamic_block(ctx, file, scope, (&d.list, &d.target, &d.empty));
        }
    }
}

fn no_options(ctx: &mut Ctx<'_>, file: FileId, at: Span, word: &str) {
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
fn check_options(ctx: &mut Ctx<'_>, file: FileId, scope: Option<u32>, options: &[ast::MenuOption]) {
    let mut seen: Vec<(String, Span)> = Vec::new();
    for o in options {
        check_template(ctx, file, &o.label, Place::USER);
        let label = ctx
            .snippet(file, o.label.span)
            .trim_matches('"')
            .trim()
            .to_lowercase();
        let mut keys = vec![(label, o.label.span)];
        match &o.kind {
            ast::OptionKind::Branch(t) => check_target(ctx, file, scope, t),
            ast::OptionKind::Link(url) => check_template(ctx, file, url, Place::USER),
            ast::OptionKind::Postback { payload, target } => {
                check_target(ctx, file, scope, target);
                let key = payload.value.trim().to_lowercase();
                // A payload equal to its own label picks the same option: no clash.
                if key != keys[0].0 {
                    keys.push((key, payload.span));
                }
            }
        }
        for (key, span) in keys {
            match seen.iter().find(|(k, _)| *k == key) {
                Some(&(_, first)) => duplicate_option(ctx, file, span, first),
                None => seen.push((key, span)),
            }
        }
    }
}

fn duplicate_option(ctx: &mut Ctx<'_>, file: FileId, span: Span, first: Span) {
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
fn dynamic_block(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    (list, target, empty): (&ast::Ident, &Option<ast::Ident>, &Option<ast::Ident>),
) {
    let span = list.span;
    if !ctx.attr_ids.contains_key(list.name.as_str()) {
        ctx.unknown_attribute(file, &list.name, list.span);
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

fn check_carousel(
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
            let mut titles: Vec<(String, Span)> = Vec::new();
            for card in cards {
                let title = ctx
                    .snippet(file, card.title.span)
                    .trim_matches('"')
                    .trim()
                    .to_lowercase();
                match titles.iter().find(|(t, _)| *t == title) {
                    Some(&(_, first)) => duplicate_option(ctx, file, card.title.span, first),
                    None => titles.push((title, card.title.span)),
                }
                for t in [
                    Some(&card.title),
                    card.subtitle.as_ref(),
                    card.image.as_ref(),
                ]
                .into_iter()
                .flatten()
                {
                    check_template(ctx, file, t, Place::USER);
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
            for t in [&card.title, &card.subtitle, &card.image, &card.button]
                .into_iter()
                .flatten()
            {
                check_template(ctx, file, t, Place::ITEM);
            }
            dynamic_block(ctx, file, scope, (list, target, empty));
        }
    }
}

fn check_otp(ctx: &mut Ctx<'_>, file: FileId, scope: Option<u32>, at: Span, otp: &ast::Otp) {
    let kw = keyword(at, "otp");
    match &otp.send {
        Some(ast::OtpSend::Email(to)) => check_template(ctx, file, to, Place::OTP_EMAIL),
        Some(ast::OtpSend::Call(api)) => check_call(ctx, file, api),
        None => missing(ctx, file, kw, "otp", "send"),
    }
    if let Some(p) = &otp.prompt {
        check_text(ctx, file, p);
    }
    let limits = [
        (otp.digits, OTP_DIGITS, "digits", "a code"),
        (otp.tries, OTP_TRIES, "tries", "the user"),
    ];
    for (value, range, what, who) in limits {
        if let Some((n, span)) = value {
            if !range.contains(&n) {
                ctx.error(
                    Diag::new(Code::BadOtp, format!("`{what} {n}` is out of range"), span)
                        .label(format!("{what} here"))
                        .help(format!(
                            "give {who} between {} and {} {what}",
                            range.start(),
                            range.end()
                        )),
                    file,
                );
            }
        }
    }
    for (target, what) in [(&otp.ok, "ok"), (&otp.fail, "fail")] {
        match target {
            Some(t) => check_target(ctx, file, scope, t),
            None => missing(ctx, file, kw, "otp", what),
        }
    }
}

fn check_form(ctx: &mut Ctx<'_>, file: FileId, at: Span, form: &ast::Form) {
    if let Some(t) = &form.title {
        check_text(ctx, file, t);
    }
    if form.fields.is_empty() {
        ctx.error(
            Diag::new(
                Code::NoFields,
                "this form has no field",
                keyword(at, "form"),
            )
            .label("nothing to fill in")
            .help("add fields such as `field name as name \"Your name\"`"),
            file,
        );
    }
    let mut seen: Vec<&ast::Ident> = Vec::new();
    for field in &form.fields {
        if let Some(kind) = &field.kind {
            check_ask_kind(ctx, file, kind);
        }
        check_template(ctx, file, &field.label, Place::USER);
        match seen.iter().find(|a| a.name == field.attr.name) {
            Some(first) => {
                let first = first.span;
                ctx.error(
                    Diag::new(
                        Code::DuplicateOption,
                        format!("the form asks for `{}` twice", field.attr.name),
                        field.attr.span,
                    )
                    .label("second field for this attribute")
                    .note(first, "first asked here")
                    .help("each field fills its own attribute; remove or rename one"),
                    file,
                );
            }
            None => seen.push(&field.attr),
        }
    }
}

fn check_appointment(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    at: Span,
    a: &ast::Appointment,
) {
    let kw = keyword(at, "appointment");
    match &a.slots {
        Some((api, _)) => check_call(ctx, file, api),
        None => missing(ctx, file, kw, "appointment", "slots"),
    }
    if let Some(label) = &a.label {
        check_template(ctx, file, label, Place::ITEM);
    }
    if let Some(p) = &a.prompt {
        check_text(ctx, file, p);
    }
    match &a.book {
        Some(api) => check_call(ctx, file, api),
        None => missing(ctx, file, kw, "appointment", "book"),
    }
    for (target, what) in [(&a.booked, "booked"), (&a.failed, "failed")] {
        match target {
            Some(t) => check_target(ctx, file, scope, t),
            None => missing(ctx, file, kw, "appointment", what),
        }
    }
}

// ---- test lines ----

pub(crate) fn check_clock(ctx: &mut Ctx<'_>, file: FileId, at: &ast::StrLit) {
    if let Err(err) = chrono::DateTime::parse_from_rfc3339(&at.value) {
        ctx.error(
            Diag::new(
                Code::BadClock,
                format!("`{}` is not an RFC 3339 time: {err}", at.value),
                at.span,
            )
            .label("not a date and time with an offset")
            .help(
                "write the full date, time and offset, e.g. `clock \"2026-11-27T15:00:00-06:00\"`",
            ),
            file,
        );
    }
}

pub(crate) fn check_test_language(ctx: &mut Ctx<'_>, file: FileId, lang: &ast::StrLit) {
    if !ctx.languages.contains(&lang.value.as_str()) {
        unknown_language(ctx, file, &lang.value, lang.span);
    }
}
