package server

import "strings"

// Evolvable enum members and the v1.0 subset are written by the encoder as the page is
// encoded (columnar.EncodeOptions; the enums are declared on the schema's properties): the
// server asks for them through query.Request and writes rows as they come.

// preferUnknownEnums reports whether the Prefer header asks for evolvable members.
func preferUnknownEnums(prefer []string) bool {
	for _, h := range prefer {
		for p := range strings.SplitSeq(h, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "include-unknown-enum-members") {
				return true
			}
		}
	}
	return false
}
