package server

import (
	"strings"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/columnar"
)

func caItems() *columnar.Items {
	c, _ := columnar.SignIns.Lookup("appliedConditionalAccessPolicies")
	return c.Items
}

// rowRewriter is the server's former adaptation of rows, kept as the reference the encoder's
// is checked against (TestEncoderAdaptsAsRewriteDid): rows from the store (beta JSON, all
// members) were parsed again and rewritten to the v1.0 property subset, with evolvable enum
// members replaced unless the client opted in. Its tables are the schema's facts.
type rowRewriter struct {
	v1          bool
	keepEvolved bool
	p           fastjson.Parser
	arena       fastjson.Arena
}

func (rw *rowRewriter) needed() bool { return rw.v1 || !rw.keepEvolved }

// rewrite returns row adapted, appended to dst. Rows come from our own encoder, so a parse
// failure is a bug; the row is then passed through unchanged rather than dropped.
func (rw *rowRewriter) rewrite(dst, row []byte) []byte {
	if !rw.needed() {
		return append(dst, row...)
	}
	v, err := rw.p.ParseBytes(row)
	if err != nil {
		return append(dst, row...)
	}
	o, err := v.Object()
	if err != nil {
		return append(dst, row...)
	}
	rw.arena.Reset()
	if rw.v1 {
		var drop []string
		o.Visit(func(k []byte, val *fastjson.Value) {
			name := string(k)
			p := propertyByName(name)
			if p == nil {
				// The mark of a home-tenant copy is an annotation, not a beta property.
				if !columnar.IsAnnotation(name) {
					drop = append(drop, name)
				}
				return
			}
			if p.Column != nil {
				if p.Column.Version&columnar.V1 == 0 {
					drop = append(drop, name)
				}
				return
			}
			if p.Object.Version&columnar.V1 == 0 {
				drop = append(drop, name)
				return
			}
			pruneObject(p.Object, val)
		})
		for _, k := range drop {
			o.Del(k)
		}
		if cas := o.Get("appliedConditionalAccessPolicies"); cas != nil && cas.Type() == fastjson.TypeArray {
			for _, ca := range cas.GetArray() {
				if co, err := ca.Object(); err == nil {
					var d []string
					co.Visit(func(k []byte, _ *fastjson.Value) {
						if m := caItems().Member(string(k)); m == nil || m.Version&columnar.V1 == 0 {
							d = append(d, string(k))
						}
					})
					for _, k := range d {
						co.Del(k)
					}
				}
			}
		}
	}
	if !rw.keepEvolved {
		for _, p := range columnar.SignIns.Properties {
			if p.Column != nil && p.Column.Enum != nil {
				rw.fixEnum(o, p.Name, p.Column.Enum)
			}
		}
		if ag := o.Get("agent"); ag != nil && ag.Type() == fastjson.TypeObject {
			ao, _ := ag.Object()
			agent, _ := columnar.SignIns.LookupObject("agent")
			for _, m := range agent.Members {
				if m.Column != nil && m.Column.Enum != nil {
					rw.fixEnum(ao, m.Name, m.Column.Enum)
				}
			}
		}
		if cas := o.Get("appliedConditionalAccessPolicies"); cas != nil && cas.Type() == fastjson.TypeArray {
			for _, ca := range cas.GetArray() {
				if co, err := ca.Object(); err == nil {
					for _, m := range caItems().Members {
						if m.Enum == nil {
							continue
						}
						if m.Flags {
							rw.fixFlags(co, m.Name, m.Enum)
						} else {
							rw.fixEnum(co, m.Name, m.Enum)
						}
					}
				}
			}
		}
	}
	return v.MarshalTo(dst)
}

func (rw *rowRewriter) fixEnum(o *fastjson.Object, key string, set *columnar.Evolvable) {
	v := o.Get(key)
	if v == nil || v.Type() != fastjson.TypeString {
		return
	}
	s := string(v.GetStringBytes())
	if s == "" || set.Known(s) {
		return
	}
	o.Set(key, rw.arena.NewString(set.Sentinel))
}

// fixFlags handles a flags enum ("application,users"): evolvable members are replaced by the
// sentinel, once.
func (rw *rowRewriter) fixFlags(o *fastjson.Object, key string, set *columnar.Evolvable) {
	v := o.Get(key)
	if v == nil || v.Type() != fastjson.TypeString {
		return
	}
	s := string(v.GetStringBytes())
	if s == "" {
		return
	}
	parts := strings.Split(s, ",")
	out := parts[:0]
	changed, sentinel := false, false
	for _, p := range parts {
		if set.Known(strings.TrimSpace(p)) {
			out = append(out, p)
			continue
		}
		changed = true
		if !sentinel {
			out = append(out, set.Sentinel)
			sentinel = true
		}
	}
	if changed {
		o.Set(key, rw.arena.NewString(strings.Join(out, ",")))
	}
}

// pruneObject removes members of a flattened object that v1.0 does not have.
func pruneObject(obj *columnar.Object, v *fastjson.Value) {
	o, err := v.Object()
	if err != nil {
		return
	}
	for _, m := range obj.Members {
		switch {
		case m.Column != nil && m.Column.Version&columnar.V1 == 0:
			o.Del(m.Name)
		case m.Object != nil && m.Object.Version&columnar.V1 == 0:
			o.Del(m.Name)
		case m.Object != nil:
			if sub := o.Get(m.Name); sub != nil {
				pruneObject(m.Object, sub)
			}
		}
	}
}

var propsByName = func() map[string]*columnar.Property {
	m := map[string]*columnar.Property{}
	for i := range columnar.SignIns.Properties {
		p := &columnar.SignIns.Properties[i]
		m[p.Name] = p
	}
	return m
}()

func propertyByName(name string) *columnar.Property { return propsByName[name] }
