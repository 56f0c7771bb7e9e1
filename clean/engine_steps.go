package clean

import (
	"fmt"

	"github.com/chimed/chimed/schemas"
)

// kindSteps are the built components that run on one kind, in order.
type kindSteps struct {
	normalisers []Normaliser
	filters     []Filter
	// skippers[i] and profiled[i] are normalisers[i] and filters[i] as a
	// Skipper and a ProfiledFilter, or nil (asserted once here rather than
	// per value); profiles: some component reads a Profile, so apply
	// profiles each value once for all of them.
	skippers []Skipper
	profiled []ProfiledFilter
	profiles bool
}

// buildSteps builds every configured component once and sorts them by kind.
func buildSteps(steps []Step) (map[schemas.Kind]*kindSteps, error) {
	out := map[schemas.Kind]*kindSteps{}
	for _, k := range schemas.Kinds {
		out[k] = &kindSteps{}
	}
	for i, s := range steps {
		where := fmt.Sprintf("clean.steps[%d]", i)
		f, ok := registry[s.Use]
		if !ok {
			return nil, fmt.Errorf("%s.use: unknown step %q (known: %s)", where, s.Use, registeredNames())
		}
		c, err := f.build(decoderFor(where, s.With))
		if err != nil {
			return nil, err
		}
		kinds := s.Kinds
		if len(kinds) == 0 {
			kinds = f.kinds
		}
		for _, k := range kinds {
			ks := out[k]
			if ks == nil {
				return nil, fmt.Errorf("%s.kinds: unknown kind %q", where, k)
			}
			switch c := c.(type) {
			case Normaliser:
				ks.normalisers = append(ks.normalisers, c)
				sk, _ := c.(Skipper)
				ks.skippers = append(ks.skippers, sk)
				ks.profiles = ks.profiles || sk != nil
			case Filter:
				ks.filters = append(ks.filters, c)
				pf, _ := c.(ProfiledFilter)
				ks.profiled = append(ks.profiled, pf)
				ks.profiles = ks.profiles || pf != nil
			default:
				return nil, fmt.Errorf("%s: %s is neither a normaliser nor a filter", where, s.Use)
			}
		}
	}
	return out, nil
}

// apply runs the normalisers over every text field, then the filters, and
// returns the first filter's removal reason ("" keeps the record).
func (ks *kindSteps) apply(r schemas.Record, t Tally) (reason, detail string) {
	reason, detail, _ = ks.applyProfiled(r, r.TextFields(), t, nil)
	return reason, detail
}

// applyProfiled is apply for a caller that already holds r.TextFields(),
// with scratch space for the fields' Profiles, returned for reuse. A value
// is profiled once before the first component that reads a Profile, and
// again only after a normaliser has rewritten it.
func (ks *kindSteps) applyProfiled(r schemas.Record, fields []schemas.Field, t Tally, profiles []Profile) (reason, detail string, _ []Profile) {
	profiles = profiles[:0]
	for _, f := range fields {
		v := *f.Value
		var p Profile
		fresh := false // p is the Profile of v
		for i, n := range ks.normalisers {
			if sk := ks.skipper(i); sk != nil {
				if !fresh {
					p, fresh = ProfileText(v), true
				}
				if sk.CanSkip(&p) {
					continue
				}
			}
			if out := n.Normalise(f.Name, v, t); out != v {
				v, fresh = out, false
			}
		}
		*f.Value = v
		if ks.profiles && !fresh {
			p = ProfileText(v)
		}
		profiles = append(profiles, p)
	}
	for i, f := range ks.filters {
		if pf := ks.profiledFilter(i); pf != nil {
			reason, detail = pf.CheckProfiled(fields, profiles)
		} else {
			reason, detail = f.Check(r)
		}
		if reason != "" {
			return reason, detail, profiles
		}
	}
	return "", "", profiles
}

// skipper is normalisers[i] as a Skipper, or nil. (kindSteps built by
// hand, as benchmarks do, have no skippers slice.)
func (ks *kindSteps) skipper(i int) Skipper {
	if i < len(ks.skippers) {
		return ks.skippers[i]
	}
	return nil
}

// profiledFilter is filters[i] as a ProfiledFilter, or nil.
func (ks *kindSteps) profiledFilter(i int) ProfiledFilter {
	if i < len(ks.profiled) {
		return ks.profiled[i]
	}
	return nil
}
