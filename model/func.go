package model

import "fmt"

// Spec defines a model by a step function over a comparable state S, the
// way Knossos models are written. States must be values (compare with ==):
// encode maps and slices as strings or arrays. Step must be pure: the same
// state and op always give the same result.
type Spec[S comparable] struct {
	// Name is the model's name (required).
	Name string
	// Init is the initial state.
	Init S
	// Step applies op to state and returns the new state, or false when op
	// is not legal in state (required).
	Step func(state S, op Op) (S, bool)
	// ReadOnly, when set, reports ops that never change the state when they
	// are legal (reads); the checker then places them without branching.
	ReadOnly func(op Op) bool
	// Partition, when set, splits a history into independent parts
	// (P-compositionality); see Partitioner.
	Partition func(ops []Op) [][]int
	// Describe renders a state; fmt's %v when nil.
	Describe func(state S) string
	// Explain says why op is not legal in state; optional.
	Explain func(state S, op Op) string
}

// Define turns a Spec into a Model. The model implements Partitioner when
// spec.Partition is set.
func Define[S comparable](spec Spec[S]) Model {
	d := &defined[S]{spec: spec}
	if spec.Partition != nil {
		return &partitioned[S]{d}
	}
	return d
}

type defined[S comparable] struct{ spec Spec[S] }

type partitioned[S comparable] struct{ *defined[S] }

func (p *partitioned[S]) Partition(ops []Op) [][]int { return p.spec.Partition(ops) }

func (d *defined[S]) Name() string { return d.spec.Name }

func (d *defined[S]) Compile(ops []Op) (Machine, error) {
	if d.spec.Step == nil {
		return nil, fmt.Errorf("model %q has no step function", d.spec.Name)
	}
	ops = append([]Op(nil), ops...)
	step := d.spec.Step
	m := newInterned(d.spec.Init, len(ops), func(s S, i int) (S, bool) { return step(s, ops[i]) })
	m.describe = d.spec.Describe
	if d.spec.Explain != nil {
		explain := d.spec.Explain
		m.explain = func(s S, i int) string { return explain(s, ops[i]) }
	}
	classes := classTable{}
	for i, op := range ops {
		m.classes[i] = classes.class(op)
		if d.spec.ReadOnly != nil && d.spec.ReadOnly(op) {
			m.flags[i] |= ReadOnly
		}
	}
	return m, nil
}

// Noop is Knossos' noop model: every op is legal and nothing changes.
func Noop() Model {
	return Define(Spec[struct{}]{
		Name:     "noop",
		Step:     func(s struct{}, _ Op) (struct{}, bool) { return s, true },
		ReadOnly: func(Op) bool { return true },
		Describe: func(struct{}) string { return "noop" },
	})
}
