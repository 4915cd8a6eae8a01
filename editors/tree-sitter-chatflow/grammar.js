/**
 * @file chatflow: bot flows as code (.flow files)
 * @license MIT
 *
 * A tree-sitter grammar for editors (highlighting, folding, locals). The compiler's grammar is
 * grammar/chatflow.pest; this one follows it rule for rule, but is lenient where an editor
 * gains from it: newlines are whitespace here (the pest grammar separates statements with
 * newlines or `;`), since every statement starts with a keyword and the compiler reports a
 * missing separator anyway.
 *
 * Keywords are contextual, as in the pest grammar: tree-sitter only takes a word for a keyword
 * where the keyword may stand, so `ask email as email` and `node file {}` parse.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const PREC = {
  or: 1,
  and: 2,
  not: 3,
  compare: 4,
  add: 5,
  mul: 6,
  call: 7,
};

/** `{ entry ... }` with entries separated by newlines or `;`. */
function block(entry) {
  return seq('{', repeat(choice(entry, ';')), '}');
}

function commaSep1(rule) {
  return seq(rule, repeat(seq(',', rule)));
}

function commaSep(rule) {
  return optional(commaSep1(rule));
}

module.exports = grammar({
  name: 'chatflow',

  extras: ($) => [/\s/, '\uFEFF', $.comment],

  word: ($) => $.identifier,

  supertypes: ($) => [$._item, $._statement, $._expression],

  rules: {
    source_file: ($) => repeat(choice($._item, ';')),

    _item: ($) => choice(
      $.import,
      $.bot,
      $.api,
      $.ai,
      $.node,
      $.test,
      $.hours,
      $.flow,
      $.intent,
      $.intents_from,
      $.synonyms,
      $.faq,
    ),

    comment: (_) => token(seq('#', /.*/)),

    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*/,

    // ---- tokens --------------------------------------------------------------------------------

    string: ($) => seq(
      '"',
      repeat(choice($.string_content, $.escape_sequence, $.interpolation)),
      token.immediate('"'),
    ),
    // `prec(1)`: inside a string, `#` is text, not the start of a comment.
    string_content: (_) => token.immediate(prec(1, choice(/[^"\\\n{}]+/, /[{}]/))),
    escape_sequence: (_) => token.immediate(prec(1, choice(/\\[^\n]/, '{{', '}}'))),
    // `{name}`, `{sys.NAME}`, `{secret.NAME}`, `{item.field[0]}`: an attribute inserted into a
    // template. Other braces (a regex's `{3}`) are plain text.
    interpolation: (_) => token.immediate(prec(1,
      /\{\s*[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])*\s*\}/,
    )),

    number: (_) => /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/,
    duration: (_) => /[0-9]+(ms|s|m|h)/,
    time_of_day: (_) => /[0-9]+:[0-9]+/,
    date: (_) => /[0-9]+-[0-9]+-[0-9]+/,

    true: (_) => 'true',
    false: (_) => 'false',
    null: (_) => 'null',
    status: (_) => 'status',

    // A message text: a template string or a translation set `{ en "Hi" es "Hola" }`.
    _text: ($) => choice($.string, $.translations),
    translations: ($) => seq('{', repeat1(seq($.translation, optional(';'))), '}'),
    translation: ($) => seq(field('language', $.identifier), field('text', $.string)),

    // ---- items ---------------------------------------------------------------------------------

    import: ($) => seq('import', field('path', $.string)),

    bot: ($) => seq('bot', field('name', $.string), field('body', $.bot_body)),
    bot_body: ($) => block(choice(
      $.start,
      $.greeting,
      $.avatar,
      $.fallback,
      $.fallback_ai,
      $.languages,
      $.timezone,
      $.threshold,
      $.bot_route,
      $.messages,
      $.webhook,
    )),
    start: ($) => seq('start', field('node', $.identifier)),
    greeting: ($) => seq('greeting', field('text', $._text)),
    avatar: ($) => seq('avatar', field('url', $.string)),
    fallback: ($) => seq('fallback', field('text', $._text)),
    // `fallback reply with NAME`: what nothing else takes is answered by a language model.
    fallback_ai: ($) => seq('fallback', 'reply', 'with', field('ai', $.identifier)),
    languages: ($) => seq('languages', commaSep1(field('language', $.identifier))),
    timezone: ($) => seq('timezone', field('zone', $.string)),
    threshold: ($) => seq('threshold', field('value', $.number)),
    bot_route: ($) => seq('intent', field('intent', $.identifier), '->', field('target', $.identifier)),
    messages: ($) => seq('messages', block($.bot_message)),
    bot_message: ($) => seq(field('name', $.identifier), field('text', $._text)),
    webhook: ($) => seq(
      'webhook', field('url', $.string),
      'secret', field('secret', $.identifier),
      'events', '[', commaSep1(field('event', $.identifier)), ']',
    ),

    api: ($) => seq('api', field('name', $.identifier), field('body', $.api_body)),
    api_body: ($) => block(choice(
      $.api_flag,
      $.redirects,
      $.request,
      $.header,
      $.body,
      $.json_body,
      $.form_body,
      $.timeout,
      $.retry,
      $.save,
    )),
    api_flag: (_) => choice('live', 'draft', 'idempotent', 'internal'),
    redirects: ($) => seq('redirects', field('mode', $.redirect_mode)),
    redirect_mode: (_) => choice('same_origin', 'any', 'none'),
    request: ($) => seq(field('method', $.method), field('url', $.string)),
    method: (_) => choice('get', 'post', 'put', 'patch', 'delete'),
    header: ($) => seq('header', field('name', $.string), '=', field('value', $.string)),
    body: ($) => seq('body', field('text', $.string)),
    json_body: ($) => seq('json', field('value', $.json_object)),
    form_body: ($) => seq('form', field('value', $.json_object)),
    timeout: ($) => seq('timeout', field('value', $.duration)),
    retry: ($) => seq('retry', field('count', $.number)),
    save: ($) => seq(
      'save', field('attribute', $.identifier), optional($.sensitive),
      '=', field('path', $.body_path),
    ),
    sensitive: (_) => 'sensitive',
    body_path: ($) => seq('body', repeat($._accessor)),
    item_path: ($) => seq('item', repeat($._accessor)),
    _accessor: ($) => choice(
      seq(token.immediate('.'), field('field', alias($.identifier, $.field_name))),
      seq(token.immediate('['), field('index', choice($.number, $.string)), ']'),
    ),

    // `ai NAME { ... }`: an OpenAI-compatible chat-completions API (Brain AI). `api_flag`
    // admits `idempotent` too, which the compiler rejects with a diagnostic.
    ai: ($) => seq('ai', field('name', $.identifier), field('body', $.ai_body)),
    ai_body: ($) => block(choice(
      $.api_flag,
      $.redirects,
      $.timeout,
      $.retry,
      $.ai_url,
      $.ai_model,
      $.ai_key,
      $.ai_system,
      $.ai_max_tokens,
    )),
    ai_url: ($) => seq('url', field('url', $.string)),
    ai_model: ($) => seq('model', field('model', $.string)),
    ai_key: ($) => seq('key', field('key', $.string)),
    ai_system: ($) => seq('system', field('text', $._text)),
    ai_max_tokens: ($) => seq('max_tokens', field('count', $.number)),

    // A JSON value whose strings are templates; a bare reference sends a value with its type.
    json_object: ($) => seq('{', commaSep($.json_pair), optional(','), '}'),
    json_pair: ($) => seq(field('key', $.string), ':', field('value', $._json_value)),
    json_array: ($) => seq('[', commaSep($._json_value), optional(','), ']'),
    _json_value: ($) => choice(
      $.json_object,
      $.json_array,
      $.string,
      $.number,
      $.true,
      $.false,
      $.null,
      $.status,
      $.identifier,
      $.member_expression,
    ),

    hours: ($) => seq('hours', field('name', $.identifier), field('body', $.hours_body)),
    hours_body: ($) => block(choice($.hours_zone, $.hours_closed, $.hours_weekly)),
    hours_zone: ($) => seq('zone', field('zone', $.string)),
    hours_closed: ($) => seq('closed', commaSep1(field('date', $.date))),
    hours_weekly: ($) => seq(
      field('from_day', $.identifier), optional(seq('-', field('to_day', $.identifier))),
      field('opens', $.time_of_day), '-', field('closes', $.time_of_day),
    ),

    flow: ($) => seq(
      'flow', field('name', $.identifier),
      optional(field('parameters', $.parameters)),
      field('body', $.flow_body),
    ),
    parameters: ($) => seq('(', commaSep($.identifier), ')'),
    flow_body: ($) => block($.node),

    intent: ($) => seq('intent', field('name', $.identifier), field('samples', $.samples)),
    samples: ($) => seq('{', repeat(choice($.string, ';')), '}'),
    intents_from: ($) => seq('intents', 'from', field('path', $.string)),
    synonyms: ($) => seq('synonyms', block($.synonym_rule)),
    synonym_rule: ($) => seq(repeat1(field('variant', $.string)), '=', field('canonical', $.string)),
    faq: ($) => seq(
      'faq', field('questions', $.samples),
      '->', field('answer', choice($._text, $.identifier)),
    ),

    // ---- nodes and statements ------------------------------------------------------------------

    node: ($) => seq('node', field('name', $.identifier), field('body', $.node_body)),
    node_body: ($) => block($._statement),

    _statement: ($) => choice(
      $.say,
      $.ask,
      $.ask_ai,
      $.set,
      $.call,
      $.reply_with,
      $.branch,
      $.goto,
      $.close,
      $.menu,
      $.carousel,
      $.email,
      $.otp,
      $.form,
      $.media,
      $.transfer,
      $.appointment,
      $.goal,
      $.run,
      $.return,
    ),

    say: ($) => seq('say', field('text', $._text)),
    ask: ($) => prec.right(seq(
      'ask', field('attribute', $.identifier), optional($.sensitive),
      optional(seq('as', field('kind', $.identifier))),
      optional(field('prompt', $._text)),
    )),
    set: ($) => seq(
      'set', field('attribute', choice($.identifier, $.member_expression)), optional($.sensitive),
      '=', field('value', $._expression),
    ),
    call: ($) => seq('call', field('api', $.identifier)),
    // The `ai` statements: `reply with NAME` answers the visitor; `ask NAME TEXT save ATTR`
    // puts the model's answer in an attribute.
    reply_with: ($) => seq('reply', 'with', field('ai', $.identifier)),
    ask_ai: ($) => seq(
      'ask', field('ai', $.identifier), field('prompt', $._text),
      'save', field('attribute', $.identifier),
    ),
    goto: ($) => seq('goto', field('target', $.identifier)),
    close: (_) => 'close',
    return: (_) => 'return',

    branch: ($) => prec.right(seq($.if_arm, repeat($.elif_arm), optional($.else_arm))),
    if_arm: ($) => seq('if', field('condition', $._expression), '->', field('target', $.identifier)),
    elif_arm: ($) => seq('elif', field('condition', $._expression), '->', field('target', $.identifier)),
    else_arm: ($) => seq('else', '->', field('target', $.identifier)),

    // `choose TEXT { ... }`, `buttons TEXT { ... }`, `choose TEXT from LIST { ... }`
    menu: ($) => seq(
      field('kind', choice('choose', 'buttons')),
      optional(field('prompt', $._text)),
      field('body', choice($.menu_body, $.from_block)),
    ),
    menu_body: ($) => block(choice($.option, $.link, $.postback, $.save_choice, $.threshold)),
    option: ($) => seq(
      field('label', $._text),
      optional(seq('intent', field('intent', $.identifier))),
      '->', field('target', $.identifier),
    ),
    link: ($) => seq('link', field('label', $._text), field('url', $.string)),
    postback: ($) => seq(
      'postback', field('label', $._text), field('payload', $.string),
      '->', field('target', $.identifier),
    ),
    save_choice: ($) => seq('save', field('attribute', $.identifier)),

    // Dynamic data: `from LIST { label "..."; save A = item.x; -> node; empty -> node }`
    from_block: ($) => seq('from', field('list', $.identifier), block(choice(
      $.label, $.item_save, $.target, $.empty_target,
    ))),
    label: ($) => seq('label', field('text', $._text)),
    item_save: ($) => seq('save', field('attribute', $.identifier), '=', field('path', $.item_path)),
    target: ($) => seq('->', field('target', $.identifier)),
    empty_target: ($) => seq('empty', '->', field('target', $.identifier)),

    carousel: ($) => seq('carousel', field('body', choice($.carousel_body, $.carousel_from))),
    carousel_body: ($) => block(choice($.card, $.save_choice)),
    card: ($) => seq('card', field('title', $._text), block(choice(
      $.subtitle, $.image, $.option, $.link, $.postback,
    ))),
    carousel_from: ($) => seq('from', field('list', $.identifier), block(choice(
      $.title, $.subtitle, $.image, $.button, $.item_save, $.target, $.empty_target,
    ))),
    title: ($) => seq('title', field('text', $._text)),
    subtitle: ($) => seq('subtitle', field('text', $._text)),
    image: ($) => seq('image', field('url', $.string)),
    button: ($) => seq('button', field('text', $._text)),

    email: ($) => seq('email', block(choice($.email_to, $.email_subject, $.email_body))),
    email_to: ($) => seq('to', field('address', $.string)),
    email_subject: ($) => seq('subject', field('text', $._text)),
    email_body: ($) => seq('body', field('text', $._text)),

    otp: ($) => seq('otp', block(choice(
      $.otp_send, $.prompt, $.otp_digits, $.otp_tries, $.otp_ok, $.otp_fail,
    ))),
    otp_send: ($) => seq('send', choice(
      seq('email', field('address', $.string)),
      seq('call', field('api', $.identifier)),
    )),
    prompt: ($) => seq('prompt', field('text', $._text)),
    otp_digits: ($) => seq('digits', field('count', $.number)),
    otp_tries: ($) => seq('tries', field('count', $.number)),
    otp_ok: ($) => seq('ok', '->', field('target', $.identifier)),
    otp_fail: ($) => seq('fail', '->', field('target', $.identifier)),

    form: ($) => seq('form', optional(field('title', $._text)), block($.form_field)),
    form_field: ($) => seq(
      'field', field('attribute', $.identifier),
      optional(seq('as', field('kind', $.identifier))),
      field('label', $._text),
    ),

    media: ($) => prec.right(seq(
      field('kind', $.media_kind), field('url', $.string), optional(field('caption', $._text)),
    )),
    media_kind: (_) => choice('image', 'audio', 'video', 'file'),

    transfer: ($) => prec.right(seq(
      'transfer', field('kind', choice('department', 'agent')), field('to', $.string),
      optional(field('message', $._text)),
    )),

    appointment: ($) => seq('appointment', block(choice(
      $.slots, $.label, $.prompt, $.item_save, $.book, $.booked, $.failed,
    ))),
    slots: ($) => seq('slots', 'call', field('api', $.identifier), 'from', field('path', $.body_path)),
    book: ($) => seq('book', 'call', field('api', $.identifier)),
    booked: ($) => seq('booked', '->', field('target', $.identifier)),
    failed: ($) => seq('failed', '->', field('target', $.identifier)),

    goal: ($) => seq('goal', field('name', $.string)),
    run: ($) => prec.right(seq('run', field('flow', $.identifier), optional(field('arguments', $.arguments)))),
    arguments: ($) => seq('(', commaSep($._expression), ')'),

    // ---- expressions, loosest first ------------------------------------------------------------

    _expression: ($) => choice(
      $.binary_expression,
      $.not_expression,
      $.comparison,
      $.in_expression,
      $.matches_expression,
      $.is_set_expression,
      $._operand,
    ),
    binary_expression: ($) => choice(
      ...[
        ['or', PREC.or],
        ['and', PREC.and],
        ['+', PREC.add],
        ['-', PREC.add],
        ['*', PREC.mul],
        ['/', PREC.mul],
        ['%', PREC.mul],
      ].map(([operator, precedence]) => prec.left(precedence, seq(
        field('left', $._expression),
        field('operator', operator),
        field('right', $._expression),
      ))),
    ),
    not_expression: ($) => prec(PREC.not, seq('not', field('operand', $._expression))),
    comparison: ($) => prec.left(PREC.compare, seq(
      field('left', $._expression),
      field('operator', choice('==', '!=', '<', '<=', '>', '>=', 'contains', 'starts_with', 'ends_with')),
      field('right', $._expression),
    )),
    in_expression: ($) => prec.left(PREC.compare, seq(
      field('left', $._expression), 'in', field('right', choice($.range, $.list)),
    )),
    matches_expression: ($) => prec.left(PREC.compare, seq(
      field('left', $._expression), 'matches', field('pattern', $.string),
    )),
    is_set_expression: ($) => prec.left(PREC.compare, seq(
      field('left', $._expression), 'is', optional('not'), 'set',
    )),
    range: ($) => seq(field('from', $.number), '..', field('to', $.number)),
    list: ($) => seq('[', commaSep($._operand), ']'),

    _operand: ($) => choice(
      $.parenthesized_expression,
      $.call_expression,
      $.number,
      $.string,
      $.true,
      $.false,
      $.null,
      $.status,
      $.member_expression,
      $.identifier,
    ),
    parenthesized_expression: ($) => seq('(', $._expression, ')'),
    call_expression: ($) => prec(PREC.call, seq(
      field('function', $.identifier), field('arguments', $.arguments),
    )),
    // `sys.language`, a sub-flow's node `verify_email.bad`
    member_expression: ($) => seq(
      field('object', $.identifier), token.immediate('.'), field('property', alias($.identifier, $.field_name)),
    ),

    // ---- tests ---------------------------------------------------------------------------------

    test: ($) => seq('test', field('name', $.string), field('body', $.test_body)),
    test_body: ($) => block(choice($.stub, $.user, $.expect, $.clock, $.language)),
    stub: ($) => prec.right(seq('stub', field('api', $.identifier), choice(
      'timeout',
      seq(field('status', $.number), optional(field('body', $._json_value))),
    ))),
    user: ($) => seq('user', field('text', $.string)),
    clock: ($) => seq('clock', field('time', $.string)),
    language: ($) => seq('language', field('language', $.string)),
    expect: ($) => seq('expect', choice(
      $.expect_say,
      $.expect_node,
      $.expect_attr,
      $.expect_request,
      $.expect_closed,
      $.expect_choices,
      $.expect_transfer,
      $.expect_email,
      $.expect_goal,
      $.expect_media,
      $.expect_intent,
    )),
    expect_say: ($) => seq('say', field('text', $.string)),
    expect_node: ($) => seq('node', field('node', choice($.identifier, $.member_expression))),
    expect_attr: ($) => seq('attr', field('attribute', $.identifier), choice(
      seq('==', field('value', choice($.number, $.string, $.true, $.false, $.null))),
      seq('is', 'not', 'set'),
    )),
    expect_request: ($) => prec.right(seq('request', field('api', $.identifier), choice(
      field('url', $.string),
      seq('method', field('method', $.method)),
      seq('header', field('name', $.string), '==', field('value', $.string)),
      seq('json', choice(
        seq(field('path', $.string), '==', field('value', $._json_value)),
        field('body', $._json_value),
      )),
    ))),
    expect_closed: (_) => 'closed',
    expect_choices: ($) => seq('choices', commaSepOptional($.string)),
    expect_transfer: ($) => seq('transfer', field('to', $.string)),
    expect_email: ($) => seq('email', field('to', $.string), field('subject', $.string)),
    expect_goal: ($) => seq('goal', field('name', $.string)),
    expect_media: ($) => seq('media', field('kind', $.media_kind), field('url', $.string)),
    expect_intent: ($) => seq('intent', field('intent', $.identifier)),
  },
});

/** `"A", "B"` or `"A" "B"`: the commas may be left out. */
function commaSepOptional(rule) {
  return prec.right(seq(rule, repeat(seq(optional(','), rule))));
}
