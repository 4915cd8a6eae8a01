//! `test` blocks: stubs, expectations, `clock` and `language` lines.

use super::*;

pub(super) fn check_test(ctx: &mut Ctx<'_>, file: FileId, test: &ast::Test) {
    for step in &test.steps {
        match &step.kind {
            ast::TestStepKind::Stub { api, answer } => {
                test_api(ctx, file, api);
                if let ast::StubAnswer::Status { status, .. } = answer {
                    if !crate::ir::StubAnswer::STATUSES.contains(status) {
                        ctx.error(
                            Diag::new(
                                Code::BadStatus,
                                format!("{status} is not an HTTP status"),
                                step.span,
                            )
                            .label("stubbed status")
                            .help(format!(
                                "{}; use `stub API timeout` for a failed call",
                                crate::ir::StubAnswer::STATUS_RULE
                            )),
                            file,
                        );
                    }
                }
            }
            ast::TestStepKind::ExpectNode(node) => check_target(ctx, file, None, node),
            ast::TestStepKind::ExpectAttr { attr, expect } => {
                match ctx.attr_ids.get(attr.name.as_str()) {
                    None => ctx.unknown_attribute(file, &attr.name, attr.span),
                    Some(&id) => {
                        ctx.saw(Sym::Attr(id), file, attr.span);
                        if let ast::AttrExpectation::Equals(lit) = expect {
                            let (ty, lt) = (ctx.attrs[id as usize].ty, literal_type(lit));
                            if !comparable(ty, lt) {
                                mismatch(
                                    ctx,
                                    file,
                                    step.span,
                                    format!(
                                        "`{}` is {} but the expected value is {}: this expectation can never hold",
                                        attr.name,
                                        type_name(ty),
                                        type_name(lt)
                                    ),
                                    "expect a value of the attribute's type (`ask ... as number` gives numbers, other asks give text)",
                                );
                            }
                        }
                    }
                }
            }
            ast::TestStepKind::ExpectRequest { api, .. } => {
                test_api(ctx, file, api);
            }
            ast::TestStepKind::ExpectRequestPart { api, part } => {
                test_api(ctx, file, api);
                check_request_part(ctx, file, part);
            }
            ast::TestStepKind::User(_)
            | ast::TestStepKind::ExpectSay(_)
            | ast::TestStepKind::ExpectClosed => {}
            ast::TestStepKind::Clock(at) => check_clock(ctx, file, at),
            ast::TestStepKind::Language(lang) => check_test_language(ctx, file, lang),
            ast::TestStepKind::ExpectChoices(_)
            | ast::TestStepKind::ExpectTransfer(_)
            | ast::TestStepKind::ExpectEmail { .. }
            | ast::TestStepKind::ExpectGoal(_)
            | ast::TestStepKind::ExpectIntent(_)
            | ast::TestStepKind::ExpectMedia { .. } => {}
        }
    }
}

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

/// A JSON path that does not parse can never match: say so at compile time.
fn check_request_part(ctx: &mut Ctx<'_>, file: FileId, part: &ast::RequestPart) {
    let ast::RequestPart::Json {
        path: Some(path), ..
    } = part
    else {
        return;
    };
    if crate::ir::parse_json_path(&path.value).is_none() {
        ctx.error(
            Diag::new(
                Code::BadJsonPath,
                format!("`{}` is not a JSON path", path.value),
                path.span,
            )
            .label("JSON path")
            .help("write fields separated by `.` and indexes in brackets, e.g. `\"items[0].sku\"`"),
            file,
        );
    }
}

/// An API a test stubs or expects a request of.
fn test_api(ctx: &mut Ctx<'_>, file: FileId, api: &ast::Ident) {
    match ctx.api_ids.get(api.name.as_str()) {
        Some(&id) => ctx.saw(Sym::Api(id), file, api.span),
        None => ctx.unknown_api(file, api),
    }
}
