package workload

import (
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
)

// Queue enqueues distinct integers and dequeues them, then drains the queue
// at the end; the total-queue checker reports lost, duplicated and
// unexpected elements.
func Queue(o Options) Workload {
	enq := generator.Indexed(func(i int64) (history.Op, bool) {
		return generator.Invocation("enqueue", i), true
	})
	deq := generator.Repeat(generator.Lit(generator.Invocation("dequeue", nil)))
	return Workload{
		Name:      "queue",
		Generator: o.paced(generator.Mix(enq, deq)),
		Final:     generator.Once(generator.Lit(generator.Invocation("drain", nil))),
		Checker:   checker.TotalQueue(),
	}
}
