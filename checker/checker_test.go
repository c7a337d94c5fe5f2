package checker

import (
	"context"
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

// fixed is a checker with a canned outcome.
type fixed struct {
	name  string
	v     Validity
	err   error
	panic any
	nilR  bool
}

type fixedResult struct {
	Valid Validity `json:"valid"`
}

func (r *fixedResult) Verdict() Validity { return r.Valid }

func (f fixed) Name() string { return f.name }
func (f fixed) Check(context.Context, *history.History, Options) (Result, error) {
	if f.panic != nil {
		panic(f.panic)
	}
	if f.err != nil {
		return nil, f.err
	}
	if f.nilR {
		return nil, nil
	}
	return &fixedResult{Valid: f.v}, nil
}

func TestCheckNeverFails(t *testing.T) {
	h := hist(t)
	tests := []struct {
		name    string
		c       Checker
		opts    Options
		want    Validity
		wantErr string
	}{
		{"valid", fixed{name: "a", v: Valid}, Options{}, Valid, ""},
		{"invalid", fixed{name: "a", v: Invalid}, Options{}, Invalid, ""},
		{"error", fixed{name: "a", err: errors.New("boom")}, Options{}, Unknown, "boom"},
		{"panic", fixed{name: "a", panic: "kaboom"}, Options{}, Unknown, "panic: kaboom"},
		{"nil result", fixed{name: "a", nilR: true}, Options{}, Unknown, "no result"},
		{"partial valid", fixed{name: "a", v: Valid}, Options{Partial: true}, Unknown, ""},
		{"partial invalid stays", fixed{name: "a", v: Invalid}, Options{Partial: true}, Invalid, ""},
		{"real checker error", Counter(), Options{}, Unknown, "not an integer"},
	}
	bad := hist(t, invoke(0, "add", "x"), ok(0, "add", "x"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hh := h
			if tt.name == "real checker error" {
				hh = bad
			}
			r := Check(context.Background(), tt.c, hh, tt.opts)
			if r.Verdict() != tt.want {
				t.Fatalf("verdict %v, want %v", r.Verdict(), tt.want)
			}
			if tt.wantErr != "" {
				e, ok := r.(*ErrorResult)
				if !ok || !strings.Contains(e.Error, tt.wantErr) {
					t.Fatalf("result %#v, want an ErrorResult containing %q", r, tt.wantErr)
				}
				jsonEq(t, r, `{"valid":"unknown","error":`+strconv.Quote(e.Error)+`}`)
			}
		})
	}
}

func TestComposeMergeOrder(t *testing.T) {
	tests := []struct {
		vs   []Validity
		want Validity
	}{
		{nil, Valid},
		{[]Validity{Valid, Valid}, Valid},
		{[]Validity{Valid, Unknown}, Unknown},
		{[]Validity{Unknown, Valid}, Unknown},
		{[]Validity{Unknown, Invalid, Valid}, Invalid},
		{[]Validity{Invalid, Unknown}, Invalid},
		{[]Validity{Valid, Invalid}, Invalid},
	}
	for _, tt := range tests {
		var cs []Checker
		for i, v := range tt.vs {
			cs = append(cs, fixed{name: string(rune('a' + i)), v: v})
		}
		r := run(t, Compose("all", cs...), hist(t))
		if r.Verdict() != tt.want {
			t.Errorf("Compose%v = %v, want %v", tt.vs, r.Verdict(), tt.want)
		}
		if Merge(tt.vs...) != tt.want {
			t.Errorf("Merge%v = %v, want %v", tt.vs, Merge(tt.vs...), tt.want)
		}
	}
}

func TestComposeErrorsAndJSON(t *testing.T) {
	c := Compose("all", fixed{name: "ok", v: Valid}, fixed{name: "boom", err: errors.New("bad")}, fixed{name: "panics", panic: 1})
	r := run(t, c, hist(t))
	wantVerdict(t, r, Unknown)
	jsonEq(t, r, `{"valid":"unknown","checkers":{
		"ok":{"valid":true},
		"boom":{"valid":"unknown","error":"bad"},
		"panics":{"valid":"unknown","error":"panic: 1"}}}`)
	if s := r.(Summarizer).Summary(); !strings.Contains(s, "boom: unknown (checker failed: bad)") {
		t.Errorf("summary %q", s)
	}
	dup := Check(context.Background(), Compose("all", Stats(), Stats()), hist(t), Options{})
	wantVerdict(t, dup, Unknown)
}

func TestComposeRealCheckers(t *testing.T) {
	h := hist(t,
		invoke(0, "add", 1), ok(0, "add", 1),
		invoke(1, "add", 2), ok(1, "add", 2),
		invoke(0, "read", nil), ok(0, "read", []int{1}),
	)
	r := run(t, Compose("all", Stats(), Set(), UnhandledExceptions()), h)
	wantVerdict(t, r, Invalid)
	got := r.(*Composed)
	wantVerdict(t, got.Checkers["stats"], Valid)
	wantVerdict(t, got.Checkers["set"], Invalid)
	if s := got.Summary(); !strings.Contains(s, "set: invalid (lost 1 of 2 acknowledged adds: 2)") {
		t.Errorf("summary %q", s)
	}
}

func TestValidityJSON(t *testing.T) {
	for _, v := range []Validity{Valid, Invalid, Unknown} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back Validity
		if err := json.Unmarshal(b, &back); err != nil || back != v {
			t.Errorf("%v -> %s -> %v (%v)", v, b, back, err)
		}
	}
	var v Validity
	if err := json.Unmarshal([]byte(`3`), &v); err == nil {
		t.Error("3 accepted as a verdict")
	}
}

// TestImports enforces the layering of DESIGN.md: the checker package reads
// histories and nothing else, so it imports only the standard library and
// history.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") && p != "github.com/faultline/faultline/history" {
				t.Errorf("%s imports %s: checker may import only the standard library and history", f, p)
			}
		}
	}
}
