package history

import (
	"io"
	"strconv"
	"unicode/utf8"
)

// This file holds what the JSON Lines, EDN and text writers share: number
// and string formatting and the buffering of lines.

// appendFloat appends a finite float so that it reads back as a float in
// JSON and EDN: with a fraction or an exponent.
func appendFloat(b []byte, f float64) []byte {
	n := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	for _, c := range b[n:] {
		if c == '.' || c == 'e' {
			return b
		}
	}
	return append(b, ".0"...)
}

const hexDigits = "0123456789abcdef"

// quoting chooses which characters appendQuoted escapes.
type quoting uint8

const (
	// quoteJSON escapes quotes, backslashes and control characters.
	quoteJSON quoting = iota
	// quoteEDN escapes DEL too.
	quoteEDN
	// quoteScript is JSON that is safe inside an HTML <script> element:
	// <, >, &, U+2028 and U+2029 are escaped too, and invalid UTF-8 becomes
	// the escape \ufffd rather than the character itself.
	quoteScript
)

// escapesASCII reports whether q escapes the printable ASCII byte c (other
// than the quote and the backslash, which are always escaped).
func escapesASCII(c byte, q quoting) bool {
	switch q {
	case quoteEDN:
		return c == 0x7f
	case quoteScript:
		return c == '<' || c == '>' || c == '&'
	}
	return false
}

// appendQuoted appends s as a JSON or EDN string literal (the two share
// their escapes), escaping what q says and replacing invalid UTF-8 with
// U+FFFD.
func appendQuoted(b []byte, s string, q quoting) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && !escapesASCII(c, q) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			if q == quoteScript {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, "\uFFFD"...)
			}
		case q == quoteScript && (r == '\u2028' || r == '\u2029'):
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendScriptJSONString appends s as a JSON string that is also safe
// inside an HTML <script> element: besides quotes, backslashes and control
// characters, <, >, & and U+2028 and U+2029 are escaped, and invalid UTF-8
// becomes \ufffd. Reports embed their data in pages with it.
func AppendScriptJSONString(dst []byte, s string) []byte { return appendQuoted(dst, s, quoteScript) }

// writerBufferSize is how many bytes a Writer buffers before writing them.
const writerBufferSize = 32 << 10

// lineWriter buffers encoded ops, one a line, for Writer, EDNWriter and
// the Write functions.
type lineWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func newLineWriter(w io.Writer) lineWriter {
	return lineWriter{w: w, buf: make([]byte, 0, writerBufferSize+1024)}
}

// endLine ends the line the caller has appended to buf, and writes the
// buffer out when it is full.
func (w *lineWriter) endLine() error {
	w.buf = append(w.buf, '\n')
	if len(w.buf) >= writerBufferSize {
		return w.flush()
	}
	return nil
}

// flush writes the buffered lines to the underlying writer.
func (w *lineWriter) flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = err
	}
	return err
}

// writeLines writes ops to w, one a line, encoded by appendOp.
func writeLines(w io.Writer, ops []Op, appendOp func([]byte, *Op) []byte) error {
	lw := newLineWriter(w)
	for i := range ops {
		lw.buf = appendOp(lw.buf, &ops[i])
		if err := lw.endLine(); err != nil {
			return err
		}
	}
	return lw.flush()
}
