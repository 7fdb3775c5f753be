// Keys made of several of the model's ids (a parent and a kind, a silo and a
// service). Ids may hold any character ("|", "->", ":", arrows...), so parts are
// never joined with a separator, which an id could forge: the key is the JSON
// array of the parts, one key per distinct list of strings.

/** The key of a list of parts: `keyOf("a|b", "c")` differs from `keyOf("a", "b|c")`. */
export function keyOf(...parts) {
  return JSON.stringify(parts);
}
