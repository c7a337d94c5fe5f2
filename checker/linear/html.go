package linear

import (
	"io"

	"github.com/faultline/faultline/history"
)

// RenderHTML is being written.
func RenderHTML(w io.Writer, h *history.History, r *Result) error { return nil }
