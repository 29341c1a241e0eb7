package diagnostic

import (
	"fmt"
	"strings"
)

// InputError kinds.
const (
	ErrInvalid    = "invalid"    // the input cannot be searched as given
	ErrNotFound   = "notFound"   // nothing matches what was searched
	ErrAmbiguous  = "ambiguous"  // a partial name matches several users or applications
	ErrConflict   = "conflict"   // the inputs contradict each other
	ErrOutOfRange = "outOfRange" // the time is outside the events the tenant holds
)

// InputError is a problem with what the caller asked for. It says what was searched and
// what to try, so that bad input never looks like an empty "no problems" report.
type InputError struct {
	Kind       string      `json:"kind"`
	Message    string      `json:"message"`
	Searched   string      `json:"searched,omitempty"`
	Try        []string    `json:"try,omitempty"`
	Candidates []Candidate `json:"candidates,omitempty"`
}

// Candidate is one user or application a partial name could mean.
type Candidate struct {
	ID          string `json:"id"`
	Name        string `json:"name"`                  // UPN or application display name
	DisplayName string `json:"displayName,omitempty"` // users only
	Events      int64  `json:"events"`                // events in the searched window
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Searched != "" {
		fmt.Fprintf(&b, "\nsearched: %s", e.Searched)
	}
	for _, c := range e.Candidates {
		if c.DisplayName != "" {
			fmt.Fprintf(&b, "\n  candidate: %s (%s, id %s, %d events)", c.DisplayName, c.Name, c.ID, c.Events)
		} else {
			fmt.Fprintf(&b, "\n  candidate: %s (id %s, %d events)", c.Name, c.ID, c.Events)
		}
	}
	for _, t := range e.Try {
		fmt.Fprintf(&b, "\ntry: %s", t)
	}
	return b.String()
}

func inputErr(kind, searched, msg string, try ...string) *InputError {
	return &InputError{Kind: kind, Message: msg, Searched: searched, Try: try}
}
