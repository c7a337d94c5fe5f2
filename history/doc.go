// Package history owns Faultline's record of a test: operations (Op), the
// ordered list of invocations and completions (History), the pairing of each
// invocation with its completion, and the on-disk formats: JSON Lines (the
// native format), Jepsen's history.edn, and Jepsen's text/log lines.
//
// It corresponds to Jepsen's jepsen.history namespace and the history parts of
// knossos.op, jepsen.store and jepsen.util (op->str). It imports nothing from
// the rest of Faultline; everything else depends on it, so it stays small and
// stable.
//
// # Values
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
// Normalize turns the Go values a client returns (int, []string,
// map[string]any, structs, ...) into these types.
//
// # Formats
//
// Read and ReadFile read a whole history and detect its format from the
// content (DetectFormat); NewJSONLReader, NewEDNReader, NewTextReader and
// NewLogReader stream ops one at a time. Readers never panic on bad input:
// every problem is a Problem naming the file, the line and the op. In strict
// mode the first problem is an error; in lenient mode (ReadOptions.Lenient,
// used by analyze) problems are reported and the remaining ops are kept, and
// a history read with problems must never be judged valid.
//
// JSON Lines (history.jsonl, FileFormat FormatJSONL) is one object per op:
//
//	{"index":0,"time":123456,"type":"invoke","process":3,"f":"read","value":null}
//
// plus "error", "key" and "node" when set and any other fields in order.
// The nemesis process is "nemesis". Sets are written as arrays, NaN and the
// infinities as the strings "NaN", "Infinity" and "-Infinity" (JSON has no
// such numbers; they read back as strings), tagged values as
// {"#tag":"inst","value":"..."}, non-string map keys with Format. Writer
// (buffered) and FileWriter (for a running test: a write per small batch every
// 5 ms, fsync every 100 ms and on Close) write it; AppendJSON encodes one op.
//
// Jepsen EDN (history.edn, FormatEDN) is read in every shape Jepsen, Knossos
// and Elle use: one op map per line, one vector or list of maps, maps over
// several lines, #jepsen.history.Op{...} records, comments, #_ discards, all
// EDN scalars including N and M numbers, ratios, characters, ##Inf and ##NaN,
// tagged literals such as #inst and #uuid (kept as Tagged). :process :nemesis
// is NemesisProcess; a missing :time is -1. Jepsen's independent [k v] tuple
// values are left as they are (see UnwrapIndependent and SplitIndependent).
// WriteEDN, EDNWriter and AppendEDN write one op map per line, making type,
// f, :nemesis and micro-op names keywords.
//
// Jepsen text (history.txt, FormatText, and logs, FormatLog) is
// "process :type :f value [error]" per line, tab or space separated, in logs
// after any prefix such as "INFO  jepsen.util - ". Other log lines are
// skipped; in history.txt they are errors. A bare keyword in the value column
// of a fail or info completion (old Jepsen's ":info :write :timed-out") is
// moved to Op.Error and the completion gets its invocation's value; see
// TextReader. Text has no time (-1) and no index (position in the file).
//
// Index: when every op in a file carries an index it is kept; otherwise every
// op's index is its position in the file. History order is always file order,
// never time order.
package history
