//! The other bot-builder statements (docs/actions.md): `set sys.NAME`, `run`, email, OTP,
//! forms, media, transfer and appointments.

use super::*;

pub(crate) const OTP_DIGITS: std::ops::RangeInclusive<u32> = 4..=10;

pub(crate) const OTP_TRIES: std::ops::RangeInclusive<u32> = 1..=10;

pub(crate) const OTP_DEFAULT_DIGITS: u32 = 6;

pub(crate) const OTP_DEFAULT_TRIES: u32 = 3;

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
    ctx.saw(Sym::Flow(f), file, flow.span);
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
            match &email.to {
                Some(t) => check_template(ctx, file, t, Place::USER),
                None => missing(ctx, file, keyword(at, "email"), "email", "to"),
            }
            for (part, what) in [(&email.subject, "subject"), (&email.body, "body")] {
                match part {
                    Some(t) => check_text(ctx, file, t),
                    None => missing(ctx, file, keyword(at, "email"), "email", what),
                }
            }
        }
        StmtKind::Otp(otp) => check_otp(ctx, file, scope, at, otp),
        StmtKind::Form(form) => check_form(ctx, file, at, form),
        StmtKind::Media { url, caption, .. } => {
            check_template(ctx, file, url, Place::USER);
            if let Some(c) = caption {
                check_text(ctx, file, c);
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
pub(super) fn keyword(stmt: Span, word: &str) -> Span {
    Span::new(stmt.start(), (stmt.start() + word.len()).min(stmt.end()))
}

pub(super) fn missing(ctx: &mut Ctx<'_>, file: FileId, at: Span, action: &str, what: &str) {
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

pub(super) fn check_otp(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    at: Span,
    otp: &ast::Otp,
) {
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

pub(super) fn check_form(ctx: &mut Ctx<'_>, file: FileId, at: Span, form: &ast::Form) {
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
        check_text(ctx, file, &field.label);
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

pub(super) fn check_appointment(
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
        check_text_in(ctx, file, label, Place::ITEM);
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
