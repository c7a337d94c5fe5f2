package linear

import "time"

// Options tune a check. The zero value checks with the defaults.
type Options struct {
	// TimeBudget bounds the whole check (all keys); 0 means
	// DefaultTimeBudget, negative means no limit (ctx still applies). When
	// it runs out the verdict is unknown with cause "timeout".
	TimeBudget time.Duration
	// MemoryBudget bounds the bytes the search holds (memo tables and model
	// states of all keys together); 0 means DefaultMemoryBudget(). When it
	// runs out the verdict is unknown with cause "memory".
	MemoryBudget int64
	// Independent takes each op's key from Jepsen independent [k v] tuples
	// in its value (as jepsen.independent writes them). Without it keys come
	// only from the ops' key field.
	Independent bool
	// NoSplit checks a keyed history as one, for models that read keys
	// themselves (kv); other models always split per key.
	NoSplit bool
	// Workers is how many keys are checked at once; 0 means GOMAXPROCS.
	Workers int
	// AllKeys checks every key even after one is found not linearizable,
	// as Jepsen's independent checker does, to report all failing keys. By
	// default the check stops at the first failing key (the verdict cannot
	// change any more), as Porcupine does; keys left unchecked are counted
	// in Result.Unchecked.
	AllKeys bool
}

// DefaultTimeBudget is the time budget when Options.TimeBudget is 0.
const DefaultTimeBudget = 5 * time.Minute

// DefaultMemoryBudget is a quarter of the machine's physical memory (the
// garbage collector may hold about twice what the search counts), or 2 GiB
// when that cannot be read.
func DefaultMemoryBudget() int64 {
	if total := physicalMemory(); total > 0 {
		return total / 4
	}
	return 2 << 30
}

func (o Options) withDefaults() Options {
	if o.TimeBudget == 0 {
		o.TimeBudget = DefaultTimeBudget
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = DefaultMemoryBudget()
	}
	return o
}
