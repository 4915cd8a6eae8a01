//! The `bot` block's settings, and translations against its `languages`.

use super::*;
use crate::ir::Message;

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
            ast::BotSetting::FallbackAi(ai) => {
                check_ai_use(ctx, file, ai);
                ("fallback reply with", ai.span)
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
            ast::BotSetting::Timezone(zone) => {
                hours::check_zone(ctx, file, zone);
                ("timezone", zone.span)
            }
            ast::BotSetting::Threshold(t) => ("threshold", t.span),
            // Any number of rules; checked with the matcher (compile/understand.rs).
            ast::BotSetting::Route { .. } => continue,
            ast::BotSetting::Messages { entries, span } => {
                check_messages(ctx, file, entries);
                ("messages", *span)
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

/// Each name is a built-in message, given once; its text is checked like a `say`, except
/// that the message's own placeholder (`{digits}`, `{code}`) is not an attribute.
fn check_messages(ctx: &mut Ctx<'_>, file: FileId, entries: &[(ast::Ident, ast::Text)]) {
    let names = || Message::ALL.iter().map(|m| m.name());
    for (i, (name, text)) in entries.iter().enumerate() {
        let Some(message) = Message::from_name(&name.name) else {
            let known = names().collect::<Vec<_>>().join(", ");
            let help = match did_you_mean(&name.name, names()) {
                Some(hint) => format!("{hint} The built-in messages are: {known}"),
                None => format!("the built-in messages are: {known}"),
            };
            ctx.error(
                Diag::new(
                    Code::UnknownMessage,
                    format!("`{}` is not a built-in message", name.name),
                    name.span,
                )
                .label("unknown message")
                .help(help),
                file,
            );
            continue;
        };
        if let Some((first, _)) = entries[..i].iter().find(|(n, _)| n.name == name.name) {
            ctx.error(
                Diag::new(
                    Code::DuplicateProperty,
                    format!("`{}` is given twice", name.name),
                    name.span,
                )
                .label("second text for this message")
                .note(first.span, "first given here")
                .help("give one text per message; a translation set holds every language"),
                file,
            );
        }
        // A language the set lacks keeps the built-in translation: no missing-translation
        // warning here.
        if let ast::Text::Translated { texts, span } = text {
            check_translation_languages(ctx, file, texts, *span);
        }
        for t in text.templates() {
            for part in &t.parts {
                let ast::TemplatePart::Ref(r) = part else {
                    continue;
                };
                match &r.kind {
                    ast::RefKind::Attr(a) if message.placeholder() == Some(a.as_str()) => {}
                    ast::RefKind::Attr(a)
                        if Message::ALL
                            .iter()
                            .any(|m| m.placeholder() == Some(a.as_str())) =>
                    {
                        let fills = match message.placeholder() {
                            Some(p) => format!("`{{{p}}}`"),
                            None => "no placeholder".to_string(),
                        };
                        ctx.error(
                            Diag::new(
                                Code::UnknownMessage,
                                format!("`{}` does not fill `{{{a}}}`", name.name),
                                r.span,
                            )
                            .label("not filled here")
                            .help(format!(
                                "this message fills {fills}; write the text without `{{{a}}}`"
                            )),
                            file,
                        );
                    }
                    _ => {
                        check_ref(ctx, file, r, Place::USER);
                    }
                }
            }
        }
    }
}

/// A webhook needs an absolute http(s) URL and known event names.
pub(super) fn check_webhook(ctx: &mut Ctx<'_>, file: FileId, hook: &ast::Webhook) {
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
pub(super) fn duplicate_languages<'a>(
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
/// What a conversation in a missing language is shown instead: the text in the first declared
/// language the set has (the runtime's fallback).
fn fallback_help(languages: &[&str], texts: &[(ast::Ident, ast::Template)], list: &str) -> String {
    let has = |l: &&&str| texts.iter().any(|(t, _)| t.name == **l);
    match languages.iter().find(has) {
        Some(l) if Some(l) != languages.first() => {
            format!("add a line for {list}; until then its `{l}` text is used")
        }
        _ => format!(
            "add a line for {list}; until then the bot's first language ({}) is used",
            languages.first().copied().unwrap_or_default()
        ),
    }
}

pub(crate) fn check_translations(
    ctx: &mut Ctx<'_>,
    file: FileId,
    texts: &[(ast::Ident, ast::Template)],
    span: Span,
) {
    if !check_translation_languages(ctx, file, texts, span) {
        return;
    }
    missing_translations(ctx, file, texts, span);
}

/// The languages of a translation set are declared, each once; `false` when the bot declares
/// none (then nothing else is checked).
fn check_translation_languages(
    ctx: &mut Ctx<'_>,
    file: FileId,
    texts: &[(ast::Ident, ast::Template)],
    span: Span,
) -> bool {
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
        return false;
    }
    duplicate_languages(ctx, file, texts.iter().map(|(l, _)| l));
    for (lang, _) in texts {
        if !ctx.languages.contains(&lang.name.as_str()) {
            unknown_language(ctx, file, &lang.name, lang.span);
        }
    }
    true
}

/// A warning for each declared language the set lacks.
fn missing_translations(
    ctx: &mut Ctx<'_>,
    file: FileId,
    texts: &[(ast::Ident, ast::Template)],
    span: Span,
) {
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
            .help(fallback_help(&ctx.languages, texts, &list)),
            file,
        );
    }
}

pub(super) fn unknown_language(ctx: &mut Ctx<'_>, file: FileId, name: &str, span: Span) {
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
