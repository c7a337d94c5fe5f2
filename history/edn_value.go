package history

import "fmt"

// ParseEDNValue reads one EDN value from s (e.g. "0", "nil", "{:x 0 :y 0}"),
// with keywords as strings as everywhere in this package. Anything after the
// value other than whitespace and comments is an error.
func ParseEDNValue(s string) (any, error) {
	p := &ednParser{src: []byte(s), line: 1, final: true}
	if err := p.skipWS(); err != nil {
		return nil, fmt.Errorf("EDN value %q: %w", s, err)
	}
	if p.pos >= len(p.src) {
		return nil, fmt.Errorf("EDN value %q: empty", s)
	}
	v, err := p.form()
	if err != nil {
		return nil, fmt.Errorf("EDN value %q: %w", s, err)
	}
	if err := p.skipWS(); err != nil {
		return nil, fmt.Errorf("EDN value %q: %w", s, err)
	}
	if p.pos < len(p.src) {
		return nil, fmt.Errorf("EDN value %q: unexpected %q after the value", s, p.src[p.pos:])
	}
	return v, nil
}
