package report

import (
	"strconv"

	"github.com/faultline/faultline/history"
)

// appendJSONString appends s as a JSON string that is also safe inside an
// HTML <script> element: <, > and & are escaped, like encoding/json does,
// as are U+2028 and U+2029; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte { return history.AppendScriptJSONString(b, s) }

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
