package server

import (
	"context"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// HoldQuerySlots takes n of the server's query slots, as n running list queries would, until
// the returned function gives them back.
func (s *Server) HoldQuerySlots(n int) (release func()) {
	for range n {
		if err := s.admission.slots.Acquire(context.Background()); err != nil {
			panic(err)
		}
	}
	return func() {
		for range n {
			s.admission.slots.Release()
		}
	}
}

// QueriesWaiting is the number of list queries waiting for a slot (the queue gauge).
func (s *Server) QueriesWaiting() int { return int(testutil.ToFloat64(s.admission.waiting)) }
