; chatflow folds: items and the blocks of statements.

[
  (bot)
  (api)
  (node)
  (test)
  (hours)
  (flow)
  (intent)
  (synonyms)
  (faq)
  (messages)
  (menu)
  (carousel)
  (card)
  (email)
  (otp)
  (form)
  (appointment)
  (json_object)
  (json_array)
  (translations)
] @fold
