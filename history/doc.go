// Package history owns Faultline's record of a test: operations (Op), the
// ordered list of invocations and completions (History), the pairing of each
// invocation with its completion, and the on-disk formats: JSON Lines (the
// native format), Jepsen's history.edn, and Jepsen's text/log lines.
//
// It corresponds to Jepsen's jepsen.history namespace and the history parts of
// knossos.op. It imports nothing from the rest of Faultline; everything else
// depends on it, so it stays small and stable.
//
// Values carried by ops (Op.Value, Op.Error, Op.Key) are plain Go values of a
// closed set of types, the same whichever format they were read from:
//
//	nil, bool, int64, float64, string, *big.Int,
//	[]any (EDN vectors and lists, JSON arrays), Set (EDN sets),
//	Map (EDN maps and JSON objects, ordered entries), Tagged (EDN tagged literals).
//
// EDN keywords and symbols become plain strings without the colon, so a history
// read from history.edn and the same history read from history.jsonl are equal.
package history
