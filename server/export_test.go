package server

import "github.com/prometheus/client_golang/prometheus/testutil"

// HoldQuerySlots takes n of the server's query slots, as n running list queries would, until
// the returned function gives them back.
func (s *Server) HoldQuerySlots(n int) (release func()) {
	for range n {
		s.admission.slots <- struct{}{}
	}
	return func() {
		for range n {
			s.admission.release()
		}
	}
}

// QueriesWaiting is the number of list queries waiting for a slot (the queue gauge).
func (s *Server) QueriesWaiting() int { return int(testutil.ToFloat64(s.admission.waiting)) }
