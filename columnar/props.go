package columnar

import (
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Props reads a sign-in's properties by slash path ("status/errorCode") as a reader of its
// Graph JSON sees them. RowView reads them typed from a page's columns; JSONProps from the
// JSON itself, for the callers that have only that (a request body, a caller-chosen column).
// Features map a sign-in onto their own types once, against Props, for both.
type Props interface {
	Str(path string) string
	Int(path string) int64
	Float(path string) (float64, bool) // false: no number there
	Bool(path string) bool
	Time(path string) (time.Time, error)
	Items(path string) []*fastjson.Value // a collection's elements
}

var _ Props = (*RowView)(nil)

// JSONProps reads the properties of a parsed Graph JSON sign-in.
type JSONProps struct{ V *fastjson.Value }

var _ Props = JSONProps{}

func keys(path string) []string { return strings.Split(path, "/") }

func (j JSONProps) Str(path string) string { return string(j.V.GetStringBytes(keys(path)...)) }
func (j JSONProps) Int(path string) int64  { return j.V.GetInt64(keys(path)...) }
func (j JSONProps) Bool(path string) bool  { return j.V.GetBool(keys(path)...) }

func (j JSONProps) Float(path string) (float64, bool) {
	v := j.V.Get(keys(path)...)
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	return v.GetFloat64(), true
}

func (j JSONProps) Time(path string) (time.Time, error) {
	if s := j.Str(path); s != "" {
		return time.Parse(time.RFC3339Nano, s)
	}
	return time.Time{}, nil
}

func (j JSONProps) Items(path string) []*fastjson.Value { return j.V.GetArray(keys(path)...) }
