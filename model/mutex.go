package model

import (
	"fmt"

	"github.com/faultline/faultline/history"
)

// NewMutex returns Knossos' mutex: f "acquire" (legal when free) and
// "release" (legal when held). initial is nil or false for a free mutex,
// true for a held one.
func NewMutex(initial any) (Model, error) {
	switch initial {
	case nil, false:
		return &mutex{}, nil
	case true:
		return &mutex{held: true}, nil
	}
	return nil, fmt.Errorf("model mutex: initial value must be nil, false or true, got %s", history.Format(initial))
}

type mutex struct{ held bool }

func (m *mutex) Name() string { return "mutex" }

type mutexMachine struct {
	init    uint64
	acquire []bool
}

func (m *mutex) Compile(ops []Op) (Machine, error) {
	mm := &mutexMachine{acquire: make([]bool, len(ops))}
	if m.held {
		mm.init = 1
	}
	for i, op := range ops {
		switch op.F {
		case "acquire":
			mm.acquire[i] = true
		case "release":
		default:
			return nil, opError("mutex", i, op, "unknown f %q (want acquire or release)", op.F)
		}
	}
	return mm, nil
}

func (m *mutexMachine) Init() uint64 { return m.init }

func (m *mutexMachine) Step(s uint64, i int) (uint64, bool) {
	if m.acquire[i] {
		return 1, s == 0
	}
	return 0, s == 1
}

func (m *mutexMachine) Flags(int) Flags { return 0 }

func (m *mutexMachine) Class(i int) uint64 {
	if m.acquire[i] {
		return 1
	}
	return 0
}

func (m *mutexMachine) Describe(s uint64) string {
	if s == 1 {
		return "locked"
	}
	return "free"
}

func (m *mutexMachine) Explain(s uint64, i int) string {
	if m.acquire[i] {
		return "can't acquire: already held"
	}
	return "can't release: not held"
}

func (m *mutexMachine) MemoryBytes() int64 { return int64(len(m.acquire)) }
