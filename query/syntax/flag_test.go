package syntax

import "flag"

// flagLookup reads a boolean test flag registered by another package
// (datadriven's -rewrite) without importing its internals.
func flagLookup(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() == "true"
}
