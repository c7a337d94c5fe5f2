package elle_test

import (
	"context"
	"fmt"
	"log"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/elle"
	"github.com/faultline/faultline/history"
)

// Reading a history with the checker's decoder, then checking it for
// serializability.
func ExampleValueDecoder() {
	h, probs, err := history.ReadFile("testdata/la-g-single.edn", history.ReadOptions{Lenient: true, Values: elle.ValueDecoder()})
	if err != nil || len(probs) > 0 {
		log.Fatal(err, probs)
	}
	res, err := elle.ListAppend(elle.Options{ConsistencyModels: []string{"serializable"}}).
		Check(context.Background(), h, checker.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r := res.(*elle.Result)
	fmt.Println(r.Valid, r.AnomalyTypes, r.Not)
	// Output: invalid [G-single-item] [consistent-view repeatable-read]
}
