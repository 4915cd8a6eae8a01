; chatflow highlights. Each node gets one capture, so the order of the patterns does not
; matter (editors differ on whether the first or the last match wins).

(comment) @comment

; ---- literals ---------------------------------------------------------------------------------

(string) @string
(escape_sequence) @string.escape
(interpolation) @string.special
(matches_expression pattern: (string) @string.regexp)

[
  (number)
  (duration)
  (time_of_day)
  (date)
] @number

[
  (true)
  (false)
] @boolean

(null) @constant.builtin

; ---- keywords ---------------------------------------------------------------------------------

"import" @keyword.import

[
  "if"
  "elif"
  "else"
] @keyword.conditional

[
  (close)
  (return)
] @keyword.return

[
  "and"
  "or"
  "not"
  "in"
  "is"
  "contains"
  "starts_with"
  "ends_with"
  "matches"
] @keyword.operator

[
  "bot"
  "api"
  "ai"
  "node"
  "test"
  "hours"
  "flow"
  "intent"
  "intents"
  "synonyms"
  "faq"
  "start"
  "greeting"
  "avatar"
  "fallback"
  "languages"
  "timezone"
  "threshold"
  "messages"
  "webhook"
  "secret"
  "events"
  "redirects"
  "get"
  "post"
  "put"
  "patch"
  "delete"
  "header"
  "body"
  "json"
  "form"
  "timeout"
  "retry"
  "url"
  "model"
  "key"
  "system"
  "max_tokens"
  "reply"
  "with"
  "save"
  "zone"
  "closed"
  "say"
  "ask"
  "as"
  "set"
  "call"
  "goto"
  "run"
  "choose"
  "buttons"
  "link"
  "postback"
  "from"
  "label"
  "empty"
  "carousel"
  "card"
  "title"
  "subtitle"
  "image"
  "button"
  "email"
  "to"
  "subject"
  "otp"
  "send"
  "prompt"
  "digits"
  "tries"
  "ok"
  "fail"
  "field"
  "audio"
  "video"
  "file"
  "transfer"
  "department"
  "agent"
  "appointment"
  "slots"
  "book"
  "booked"
  "failed"
  "goal"
  "stub"
  "user"
  "expect"
  "attr"
  "request"
  "method"
  "choices"
  "media"
  "clock"
  "language"
] @keyword

[
  (api_flag)
  (sensitive)
] @keyword.modifier

(redirect_mode) @constant.builtin

; ---- operators and punctuation ----------------------------------------------------------------

[
  "->"
  "="
  "=="
  "!="
  "<"
  "<="
  ">"
  ">="
  "+"
  "-"
  "*"
  "/"
  "%"
  ".."
] @operator

[
  "{"
  "}"
  "["
  "]"
  "("
  ")"
] @punctuation.bracket

[
  ","
  ";"
  ":"
  "."
] @punctuation.delimiter

; ---- names ------------------------------------------------------------------------------------

; Nodes and flows are what the conversation moves between.
(node name: (identifier) @function)
(flow name: (identifier) @function)
(_ target: (identifier) @function.call)
(start node: (identifier) @function.call)
(goto target: (identifier) @function.call)
(run flow: (identifier) @function.call)
(expect_node node: (identifier) @function.call)
(expect_node node: (member_expression object: (identifier) @function.call property: (field_name) @function.call))
(faq answer: (identifier) @function.call)

; APIs, language models (`ai`), hours tables and intents.
(api name: (identifier) @type)
(ai name: (identifier) @type)
(_ ai: (identifier) @type)
(_ api: (identifier) @type)
(hours name: (identifier) @type)
(intent name: (identifier) @type)
(_ intent: (identifier) @type)

; Functions of expressions; `open(HOURS)` names an hours table.
(call_expression
  function: (identifier) @function.builtin
  (#any-of? @function.builtin "len" "lower" "upper" "trim" "round" "number" "text" "open"))
(call_expression
  function: (identifier) @function.call
  (#not-any-of? @function.call "len" "lower" "upper" "trim" "round" "number" "text" "open"))
(call_expression
  function: (identifier) @function.builtin
  arguments: (arguments (identifier) @type)
  (#eq? @function.builtin "open"))
(call_expression
  function: (identifier) @function.builtin
  arguments: (arguments (identifier) @variable)
  (#any-of? @function.builtin "len" "lower" "upper" "trim" "round" "number" "text"))
(call_expression
  function: (identifier) @function.call
  arguments: (arguments (identifier) @variable)
  (#not-any-of? @function.call "len" "lower" "upper" "trim" "round" "number" "text" "open"))
(run arguments: (arguments (identifier) @variable))

; Attributes.
(_ attribute: (identifier) @variable)
(_ list: (identifier) @variable)
(_ kind: (identifier) @type.builtin)
(parameters (identifier) @variable.parameter)
(status) @variable.builtin
(member_expression
  object: (identifier) @variable.builtin
  property: (field_name) @variable.builtin
  (#eq? @variable.builtin "sys"))
(set attribute: (member_expression object: (identifier) @variable.builtin property: (field_name) @variable.builtin))
(body_path "body" @variable.builtin)
(item_path "item" @variable.builtin)
(body_path (field_name) @property)
(item_path (field_name) @property)
(json_pair key: (string) @property)

; Identifiers that are values in expressions.
(binary_expression [left: (identifier) right: (identifier)] @variable)
(comparison [left: (identifier) right: (identifier)] @variable)
(not_expression operand: (identifier) @variable)
(in_expression left: (identifier) @variable)
(matches_expression left: (identifier) @variable)
(is_set_expression left: (identifier) @variable)
(parenthesized_expression (identifier) @variable)
(list (identifier) @variable)
(set value: (identifier) @variable)
(if_arm condition: (identifier) @variable)
(elif_arm condition: (identifier) @variable)
(json_pair value: (identifier) @variable)
(json_array (identifier) @variable)

; Languages, built-in messages, webhook settings, weekdays.
(translation language: (identifier) @label)
(languages language: (identifier) @label)
(bot_message name: (identifier) @constant)
(webhook secret: (identifier) @constant)
(webhook event: (identifier) @constant.builtin)
(hours_weekly from_day: (identifier) @constant.builtin)
(hours_weekly to_day: (identifier) @constant.builtin)
