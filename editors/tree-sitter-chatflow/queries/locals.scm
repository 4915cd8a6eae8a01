; chatflow locals: node names are local to their sub-flow; parameters to the flow.

(source_file) @local.scope
(flow) @local.scope

(node name: (identifier) @local.definition.function)
(flow name: (identifier) @local.definition.function)
(parameters (identifier) @local.definition.parameter)
(set attribute: (identifier) @local.definition.var)
(ask attribute: (identifier) @local.definition.var)
(save attribute: (identifier) @local.definition.var)
(save_choice attribute: (identifier) @local.definition.var)
(item_save attribute: (identifier) @local.definition.var)
(form_field attribute: (identifier) @local.definition.var)
(api name: (identifier) @local.definition.type)
(hours name: (identifier) @local.definition.type)
(intent name: (identifier) @local.definition.type)

(_ target: (identifier) @local.reference)
(goto target: (identifier) @local.reference)
(start node: (identifier) @local.reference)
(run flow: (identifier) @local.reference)
(_ api: (identifier) @local.reference)
(binary_expression [left: (identifier) right: (identifier)] @local.reference)
(comparison [left: (identifier) right: (identifier)] @local.reference)
(not_expression operand: (identifier) @local.reference)
(in_expression left: (identifier) @local.reference)
(matches_expression left: (identifier) @local.reference)
(is_set_expression left: (identifier) @local.reference)
(arguments (identifier) @local.reference)
(set value: (identifier) @local.reference)
(if_arm condition: (identifier) @local.reference)
(elif_arm condition: (identifier) @local.reference)
