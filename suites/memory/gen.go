package memory

import (
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/workload"
)

func clientsOnly(w workload.Workload) generator.Generator {
	return generator.Clients(w.Generator)
}

func finalOnly(w workload.Workload) generator.Generator {
	if w.Final == nil {
		return nil
	}
	return generator.Clients(w.Final)
}
