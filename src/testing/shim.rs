// TEMPORARY: signatures of the runtime's Engine until the runtime branch lands.
#![allow(dead_code, clippy::all)]
use std::sync::Arc;
use crate::ir::{ApiId, Program, Value};
use crate::runtime::{EngineConfig, Event, Session};
pub struct Engine { p: Arc<Program>, c: EngineConfig }
#[derive(Debug)]
pub struct LoadError;
impl std::fmt::Display for LoadError { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("x") } }
pub struct CallReport { pub event: Event, pub body: Option<String>, pub saved: Vec<(String, Option<Value>)> }
impl Engine {
  pub fn new(program: Arc<Program>, config: EngineConfig) -> Result<Engine, LoadError> { Ok(Engine{p: program, c: config}) }
  pub fn program(&self) -> &Program { &self.p }
  pub fn config(&self) -> &EngineConfig { &self.c }
  pub fn new_session(&self) -> Session { todo!() }
  pub async fn start(&self, _s: &mut Session) -> Vec<Event> { todo!() }
  pub async fn step(&self, _s: &mut Session, _input: &str) -> Vec<Event> { todo!() }
  pub async fn call_api(&self, _s: &mut Session, _api: ApiId) -> CallReport { todo!() }
}
