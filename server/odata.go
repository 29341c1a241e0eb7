package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/authlake/authlake/columnar"
)

// MaxPageSize is Graph's default and maximum page size for sign-ins.
const MaxPageSize = 1000

// listOptions are the validated query options of a list request.
type listOptions struct {
	Filter    string
	OrderBy   string
	Top       int
	SkipToken string // the query layer's token, unwrapped
	Select    []string
	Count     bool
	Apply     string
	topGiven  bool
	// raw keeps the options as the client wrote them (minus $skiptoken) so nextLink can repeat
	// them.
	raw []rawOption
}

type rawOption struct{ key, value string }

// optionError is a 400 with a message for the client.
type optionError struct{ msg string }

func (e *optionError) Error() string { return e.msg }

func badOption(format string, args ...any) error { return &optionError{fmt.Sprintf(format, args...)} }

// knownOptions maps a lower-case option name, with or without its '$' (Graph accepts both), to
// its canonical form.
var knownOptions = map[string]string{
	"filter": "$filter", "top": "$top", "skiptoken": "$skiptoken", "orderby": "$orderby",
	"select": "$select", "count": "$count", "apply": "$apply",
}

// unsupportedOptions are OData options Graph does not support on signIns: named, so the error
// says so instead of calling them unknown.
var unsupportedOptions = map[string]bool{"$search": true, "$expand": true, "$skip": true, "$format": true}

// parseListOptions validates the raw query string. Graph's docs write "?&$filter=…", so empty
// keys are skipped; repeated options, unknown options and out-of-range values are 400s.
func parseListOptions(rawQuery string, version columnar.Version) (listOptions, error) {
	o := listOptions{Top: MaxPageSize}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return o, badOption("Query option name %q is not correctly URL-encoded.", truncate(k, 64))
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return o, badOption("The value of query option '%s' is not correctly URL-encoded.", truncate(key, 64))
		}
		if key == "" {
			continue
		}
		lower := strings.ToLower(strings.TrimSpace(key))
		canon, ok := knownOptions[strings.TrimPrefix(lower, "$")]
		if !ok {
			if unsupportedOptions[lower] {
				return o, badOption("Query option '%s' is not supported on auditLogs/signIns.", truncate(key, 64))
			}
			return o, badOption("Query option '%s' is not allowed. Supported options: $filter, $top, $skiptoken, $orderby, $select, $count.", truncate(key, 64))
		}
		if seen[canon] {
			return o, badOption("Query option '%s' was specified more than once; it must be specified at most once.", canon)
		}
		seen[canon] = true
		switch canon {
		case "$filter":
			o.Filter = val
		case "$orderby":
			o.OrderBy = val
		case "$apply":
			o.Apply = val
		case "$top":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 1 || n > MaxPageSize {
				return o, badOption("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", truncate(val, 32), MaxPageSize)
			}
			o.Top, o.topGiven = n, true
		case "$count":
			switch strings.ToLower(strings.TrimSpace(val)) {
			case "true":
				o.Count = true
			case "false":
			default:
				return o, badOption("Invalid value '%s' for $count: use true or false.", truncate(val, 32))
			}
		case "$select":
			sel, err := parseSelect(val, version)
			if err != nil {
				return o, err
			}
			o.Select = sel
		case "$skiptoken":
			o.SkipToken = val // unwrapped by the caller, which knows the tenant
			continue
		}
		o.raw = append(o.raw, rawOption{key, val})
	}
	return o, nil
}

// parseSelect checks $select against the version's properties, so a beta-only property on
// v1.0 is a 400 rather than silently missing from the rows.
func parseSelect(val string, version columnar.Version) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(val, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, badOption("Invalid $select: empty item in '%s'.", truncate(val, 128))
		}
		name, ver, ok := lookupProperty(item)
		if !ok {
			return nil, badOption("Invalid $select: could not find a property named '%s' on type 'microsoft.graph.signIn'.", truncate(item, 64))
		}
		if ver&version == 0 {
			return nil, badOption("Invalid $select: property '%s' is not available on v1.0; use /beta.", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// lookupProperty finds a top-level signIn property ignoring case, returning its Graph name.
func lookupProperty(name string) (string, columnar.Version, bool) {
	for _, p := range columnar.SignIns.Properties {
		if strings.EqualFold(p.Name, name) {
			if p.Column != nil {
				return p.Name, p.Column.Version, true
			}
			return p.Name, p.Object.Version, true
		}
	}
	return "", 0, false
}

// apiVersion maps the path segment to the schema version flag.
func apiVersion(seg string) (columnar.Version, bool) {
	switch seg {
	case "v1.0":
		return columnar.V1, true
	case "beta":
		return columnar.Beta, true
	}
	return 0, false
}

// baseURL is the absolute origin links are built on.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// nextLink repeats the client's options, URL-encoded as Graph writes them, and appends the
// opaque skiptoken.
func nextLink(base, path string, raw []rawOption, token string) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteString(path)
	b.WriteByte('?')
	for _, o := range raw {
		// Graph writes option names with a literal '$'.
		b.WriteString(strings.ReplaceAll(url.QueryEscape(o.key), "%24", "$"))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(o.value))
		b.WriteByte('&')
	}
	b.WriteString("$skiptoken=")
	b.WriteString(url.QueryEscape(token))
	return b.String()
}
