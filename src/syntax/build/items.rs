//! Builds the top-level items from their pairs: `bot` settings, `api` properties, save paths
//! and `json {}` bodies.

use super::*;

impl Builder<'_> {
    pub(super) fn bot(&mut self, mut inner: Pairs<Rule>, span: Span) -> Bot {
        let name = self.next_str(&mut inner);
        let mut settings = Vec::new();
        for p in inner {
            let rule = p.as_rule();
            let setting_span = self.span(&p);
            if rule == Rule::threshold {
                settings.push(BotSetting::Threshold(self.threshold(p)));
                continue;
            }
            let mut s = p.into_inner();
            settings.push(match rule {
                Rule::start => BotSetting::Start(self.next_ident(&mut s, NameRole::Node)),
                Rule::greeting => BotSetting::Greeting(self.next_text(&mut s)),
                Rule::avatar => BotSetting::Avatar(self.next_template(&mut s)),
                Rule::fallback => BotSetting::Fallback(self.next_text(&mut s)),
                Rule::fallback_ai => BotSetting::FallbackAi(self.next_ident(&mut s, NameRole::Api)),
                Rule::languages => BotSetting::Languages(
                    s.filter(|q| q.as_rule() == Rule::ident)
                        .map(|q| self.word(&q))
                        .collect(),
                ),
                Rule::timezone => BotSetting::Timezone(self.next_str(&mut s)),
                Rule::bot_route => {
                    let intent = match s.find(|q| q.as_rule() == Rule::ident) {
                        Some(q) => self.word(&q),
                        None => leaf::empty_ident(),
                    };
                    let target = self.next_ident(&mut s, NameRole::Node);
                    BotSetting::Route { intent, target }
                }
                Rule::webhook => {
                    let url = self.next_str(&mut s);
                    let mut names = s
                        .filter(|q| q.as_rule() == Rule::ident)
                        .map(|q| self.word(&q));
                    let Some(secret) = names.next() else { continue };
                    BotSetting::Webhook(Webhook {
                        url,
                        secret,
                        events: names.collect(),
                    })
                }
                Rule::messages => {
                    let mut entries = Vec::new();
                    for m in s.filter(|q| q.as_rule() == Rule::bot_message) {
                        let mut parts = m.into_inner();
                        let name = self.next_ident(&mut parts, NameRole::Attribute);
                        entries.push((name, self.next_text(&mut parts)));
                    }
                    BotSetting::Messages {
                        entries,
                        span: setting_span,
                    }
                }
                _ => continue,
            });
        }
        Bot {
            name,
            settings,
            span,
        }
    }

    pub(super) fn api(&mut self, mut inner: Pairs<Rule>, span: Span) -> Api {
        let name = self.next_ident(&mut inner, NameRole::Api);
        let mut props = Vec::new();
        for p in inner {
            if let Some(prop) = self.api_prop(p) {
                props.push(prop);
            }
        }
        Api {
            ai: false,
            name,
            props,
            span,
        }
    }

    pub(super) fn api_prop(&mut self, p: P) -> Option<ApiProp> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        Some(match rule {
            Rule::kw_live => ApiProp::Mode { live: true, span },
            Rule::kw_draft => ApiProp::Mode { live: false, span },
            Rule::kw_idempotent => ApiProp::Idempotent { span },
            Rule::kw_internal => ApiProp::Internal { span },
            Rule::redirects => {
                let word = inner.find(|p| p.as_rule() == Rule::redirect_mode)?;
                ApiProp::Redirects {
                    mode: Redirects::from_word(word.as_str())?,
                    span,
                }
            }
            Rule::request => {
                let method = method_of(inner.next().map_or("get", |m| m.as_str()));
                let url = self.next_template(&mut inner);
                ApiProp::Request { method, url, span }
            }
            Rule::header => {
                let name = self.next_str(&mut inner);
                let value = self.next_template(&mut inner);
                ApiProp::Header { name, value, span }
            }
            Rule::body_prop => ApiProp::Body {
                body: self.next_template(&mut inner),
                span,
            },
            Rule::form_prop => {
                let obj = inner.find(|p| p.as_rule() == Rule::json_object)?;
                ApiProp::Form {
                    body: self.json_template(obj),
                    span,
                }
            }
            Rule::json_prop => {
                let obj = inner.find(|p| p.as_rule() == Rule::json_object)?;
                ApiProp::Json {
                    body: self.json_template(obj),
                    span,
                }
            }
            Rule::timeout => {
                let d = inner.find(|p| p.as_rule() == Rule::duration)?;
                ApiProp::Timeout {
                    millis: leaf::duration(d.as_str(), self.at(&d), self.diags),
                    span,
                }
            }
            Rule::retry => {
                let n = inner.find(|p| p.as_rule() == Rule::uint)?;
                let count = leaf::retry(n.as_str(), self.at(&n), self.diags);
                ApiProp::Retry { count, span }
            }
            Rule::ai_url => ApiProp::Url {
                url: self.next_template(&mut inner),
                span,
            },
            Rule::ai_model => ApiProp::Model {
                model: self.next_str(&mut inner),
                span,
            },
            Rule::ai_key => ApiProp::Key {
                key: self.next_template(&mut inner),
                span,
            },
            Rule::ai_system => ApiProp::System {
                text: self.next_text(&mut inner),
                span,
            },
            Rule::ai_max_tokens => {
                let n = inner.find(|p| p.as_rule() == Rule::uint)?;
                let count = leaf::max_tokens(n.as_str(), self.at(&n), self.diags);
                ApiProp::MaxTokens { count, span }
            }
            Rule::save => {
                let attr = self.next_ident(&mut inner, NameRole::Attribute);
                let mut sensitive = false;
                let path = inner.find(|p| {
                    sensitive |= p.as_rule() == Rule::kw_sensitive;
                    p.as_rule() == Rule::save_path
                })?;
                ApiProp::Save {
                    attr,
                    path: self.save_path(path),
                    span,
                    sensitive,
                }
            }
            _ => return None,
        })
    }

    pub(super) fn save_path(&mut self, p: P) -> SavePath {
        let span = self.span(&p);
        let mut steps = Vec::new();
        for step in p.into_inner() {
            match step.as_rule() {
                Rule::path_field => steps.push(PathStep::Field(step.as_str().to_owned())),
                Rule::string => steps.push(PathStep::Field(self.str_of(&step).value.into())),
                Rule::path_index => {
                    if let Some(i) = leaf::index(step.as_str(), self.at(&step), self.diags) {
                        steps.push(PathStep::Index(i));
                    }
                }
                _ => {}
            }
        }
        SavePath { steps, span }
    }

    pub(super) fn json_template(&mut self, p: P) -> JsonTemplate {
        let span = self.span(&p);
        if self.depth >= MAX_DEPTH {
            self.diags.push(
                Diag::new(Code::Syntax, "this JSON value is nested too deeply", span)
                    .label("too deep")
                    .help("flatten this JSON value"),
            );
            return JsonTemplate::Null(span);
        }
        self.depth += 1;
        let value = self.json_template_inner(p, span);
        self.depth -= 1;
        value
    }

    pub(super) fn json_template_inner(&mut self, p: P, span: Span) -> JsonTemplate {
        match p.as_rule() {
            Rule::json_object => {
                let mut members = Vec::new();
                for m in p.into_inner().filter(|m| m.as_rule() == Rule::json_member) {
                    let mut parts = m.into_inner();
                    let key = self.next_str(&mut parts);
                    let value = parts
                        .find(|v| !matches!(v.as_rule(), Rule::colon))
                        .map_or(JsonTemplate::Null(span), |v| self.json_template(v));
                    members.push((key, value));
                }
                JsonTemplate::Object(members, span)
            }
            Rule::json_array => {
                let items = p
                    .into_inner()
                    .filter(|v| {
                        !matches!(v.as_rule(), Rule::lbracket | Rule::rbracket | Rule::comma)
                    })
                    .map(|v| self.json_template(v))
                    .collect();
                JsonTemplate::Array(items, span)
            }
            Rule::string => JsonTemplate::String(self.template_of(&p)),
            Rule::json_number => JsonTemplate::Number(self.number(&p), span),
            Rule::kw_true => JsonTemplate::Bool(true, span),
            Rule::kw_false => JsonTemplate::Bool(false, span),
            Rule::ident | Rule::kw_status | Rule::dotted_ref => JsonTemplate::Ref(self.expr(p)),
            _ => JsonTemplate::Null(span),
        }
    }
}
