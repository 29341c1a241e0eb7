package identityprotection

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"
)

// ListError is a malformed line in an imported list, positioned so that an admin can fix
// the file: "threat.txt:12:5: invalid IP address or CIDR "10.0.0.300"".
type ListError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *ListError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// IPList is a set of addresses and networks (anonymous proxies and Tor exits, or threat
// intelligence). Lookups are linear in the number of prefixes, which real lists keep
// small; exact addresses are a map.
type IPList struct {
	addrs    map[netip.Addr]bool
	prefixes []netip.Prefix
}

// Len counts entries.
func (l *IPList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.addrs) + len(l.prefixes)
}

// Contains reports whether ip is listed.
func (l *IPList) Contains(ip string) bool {
	if l == nil {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if l.addrs[a] {
		return true
	}
	for _, p := range l.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// lines walks non-blank, non-comment lines, giving each with its 1-based line number and
// the 1-based column where its content starts.
func lines(data []byte, fn func(line string, n, col int) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		if i := strings.IndexByte(raw, '#'); i >= 0 {
			raw = raw[:i]
		}
		trimmed := strings.TrimLeft(raw, " \t")
		col := len(raw) - len(trimmed) + 1
		trimmed = strings.TrimRight(trimmed, " \t\r")
		if trimmed == "" {
			continue
		}
		if err := fn(trimmed, n, col); err != nil {
			return err
		}
	}
	return sc.Err()
}

// ParseIPList parses one address or CIDR per line; '#' starts a comment. name is used in
// error positions. The whole list is validated before anything uses it.
func ParseIPList(name string, data []byte) (*IPList, error) {
	l := &IPList{addrs: map[netip.Addr]bool{}}
	err := lines(data, func(line string, n, col int) error {
		if strings.Contains(line, "/") {
			p, err := netip.ParsePrefix(line)
			if err != nil {
				return &ListError{name, n, col, fmt.Sprintf("invalid IP address or CIDR %q", line)}
			}
			l.prefixes = append(l.prefixes, p.Masked())
			return nil
		}
		a, err := netip.ParseAddr(line)
		if err != nil {
			return &ListError{name, n, col, fmt.Sprintf("invalid IP address or CIDR %q", line)}
		}
		l.addrs[a.Unmap()] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// LoadIPList reads and parses a list file.
func LoadIPList(path string) (*IPList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseIPList(path, data)
}

// Leak is one entry of a leaked-credentials list.
type Leak struct {
	UserID string
	At     time.Time // when the credentials were found; zero: at import
}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseLeakList parses lines of `userId[,leakedDateTime]` (RFC 3339); '#' starts a comment.
func ParseLeakList(name string, data []byte) ([]Leak, error) {
	var out []Leak
	err := lines(data, func(line string, n, col int) error {
		id, when, hasWhen := strings.Cut(line, ",")
		id = strings.TrimSpace(id)
		if !guidRe.MatchString(id) {
			return &ListError{name, n, col, fmt.Sprintf("invalid user id %q: want a GUID (the user's object id)", id)}
		}
		lk := Leak{UserID: strings.ToLower(id)}
		if hasWhen {
			wcol := col + strings.IndexByte(line, ',') + 1
			w := strings.TrimSpace(when)
			wcol += len(when) - len(strings.TrimLeft(when, " \t"))
			t, err := time.Parse(time.RFC3339Nano, w)
			if err != nil {
				return &ListError{name, n, wcol, fmt.Sprintf("invalid leak time %q: want RFC 3339 (2026-11-01T00:00:00Z)", w)}
			}
			lk.At = t.UTC()
		}
		out = append(out, lk)
		return nil
	})
	return out, err
}
