//! Builds `test` blocks: stubs, user lines and expectations.

use super::*;

impl Builder<'_> {
    pub(super) fn test(&mut self, mut inner: Pairs<Rule>, span: Span) -> Test {
        let name = self.next_str(&mut inner);
        let mut steps = Vec::new();
        for p in inner {
            if let Some(step) = self.step(p) {
                steps.push(step);
            }
        }
        Test { name, steps, span }
    }

    pub(super) fn step(&mut self, p: P) -> Option<TestStep> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let kind = match rule {
            Rule::stub => {
                let api = self.next_ident(&mut inner, NameRole::Api);
                TestStepKind::Stub {
                    api,
                    answer: self.stub_answer(inner)?,
                }
            }
            Rule::user => TestStepKind::User(self.next_str(&mut inner)),
            Rule::clock => TestStepKind::Clock(self.next_str(&mut inner)),
            Rule::language => TestStepKind::Language(self.next_str(&mut inner)),
            Rule::expect => {
                let what = inner.find(|q| q.as_rule() != Rule::kw_expect)?;
                self.expectation(what)?
            }
            _ => return None,
        };
        Some(TestStep { kind, span })
    }

    pub(super) fn stub_answer(&mut self, mut inner: Pairs<Rule>) -> Option<StubAnswer> {
        let first = inner.next()?;
        if first.as_rule() == Rule::kw_timeout {
            return Some(StubAnswer::Timeout);
        }
        let status = leaf::http_status(first.as_str(), self.at(&first), self.diags);
        let body = inner
            .next()
            .and_then(|j| leaf::stub_json(j.as_str(), self.at(&j), self.diags));
        Some(StubAnswer::Status { status, body })
    }

    pub(super) fn expectation(&mut self, p: P) -> Option<TestStepKind> {
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        Some(match rule {
            Rule::expect_say => TestStepKind::ExpectSay(self.next_str(&mut inner)),
            Rule::expect_node => TestStepKind::ExpectNode(self.node_path(&mut inner)),
            Rule::expect_request => {
                let api = self.next_ident(&mut inner, NameRole::Api);
                let what = inner.find(|q| q.as_rule() != Rule::kw_request)?;
                if what.as_rule() == Rule::string {
                    let url = self.str_of(&what);
                    return Some(TestStepKind::ExpectRequest { api, url });
                }
                let part = self.request_part(what)?;
                TestStepKind::ExpectRequestPart { api, part }
            }
            Rule::expect_attr => {
                let attr = self.next_ident(&mut inner, NameRole::Attribute);
                let expect = match inner.find(|q| q.as_rule() != Rule::eqeq)? {
                    q if q.as_rule() == Rule::kw_is => AttrExpectation::NotSet,
                    q => AttrExpectation::Equals(self.literal(&q)),
                };
                TestStepKind::ExpectAttr { attr, expect }
            }
            Rule::kw_closed => TestStepKind::ExpectClosed,
            Rule::expect_choices => TestStepKind::ExpectChoices(
                inner
                    .filter(|q| q.as_rule() == Rule::string)
                    .map(|q| self.str_of(&q))
                    .collect(),
            ),
            Rule::expect_transfer => TestStepKind::ExpectTransfer(self.next_str(&mut inner)),
            Rule::expect_email => {
                let to = self.next_str(&mut inner);
                let subject = self.next_str(&mut inner);
                TestStepKind::ExpectEmail { to, subject }
            }
            Rule::expect_goal => TestStepKind::ExpectGoal(self.next_str(&mut inner)),
            Rule::expect_intent => {
                TestStepKind::ExpectIntent(match inner.find(|q| q.as_rule() == Rule::ident) {
                    Some(q) => self.word(&q),
                    None => leaf::empty_ident(),
                })
            }
            Rule::expect_media => {
                let kind = self.media_kind(&mut inner);
                TestStepKind::ExpectMedia {
                    kind,
                    url: self.next_str(&mut inner),
                }
            }
            _ => return None,
        })
    }

    /// `method post`, `header "N" == "V"` or `json ...` of `expect request`.
    pub(super) fn request_part(&mut self, p: P) -> Option<RequestPart> {
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        Some(match rule {
            Rule::request_method => {
                let method = inner.find(|q| q.as_rule() == Rule::method)?;
                RequestPart::Method(method_of(method.as_str()))
            }
            Rule::request_header => {
                let name = self.next_str(&mut inner);
                let value = self.next_str(&mut inner);
                RequestPart::Header { name, value }
            }
            Rule::request_json => {
                let path = inner.clone().find(|q| q.as_rule() == Rule::string);
                let path = path.map(|q| self.str_of(&q));
                let raw = inner.find(|q| q.as_rule() == Rule::raw_json)?;
                let value =
                    leaf::test_json(raw.as_str(), self.at(&raw), "the expected JSON", self.diags)
                        .unwrap_or(serde_json::Value::Null);
                RequestPart::Json { path, value }
            }
            _ => return None,
        })
    }

    pub(super) fn literal(&mut self, p: &P) -> Literal {
        match p.as_rule() {
            Rule::number => Literal::Number(self.number(p)),
            Rule::string => Literal::String(self.str_of(p).value),
            Rule::kw_true => Literal::Bool(true),
            Rule::kw_false => Literal::Bool(false),
            _ => Literal::Null,
        }
    }
}
