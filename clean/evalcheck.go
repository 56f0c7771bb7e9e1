package clean

import (
	"fmt"
	"sort"
	"strings"
)

// checkEval fails a run in which an eval source (role: eval) has no row
// left: an empty eval set holds nothing out, leaves decontamination
// nothing to check training rows against, and every evaluation number
// missing. It says what the rows became, so the fix is plain. A source
// whose every row is an exact duplicate is no such case: eval rows are
// deduplicated only among themselves, so its questions are held out by the
// eval source that kept them (the same test set in two file formats, say).
func (r *Report) checkEval(sources []Source) error {
	var problems []string
	for _, s := range sources {
		if !s.Eval {
			continue
		}
		c := r.Sources[s.Name]
		switch {
		case c == nil || c.In == 0:
			problems = append(problems, fmt.Sprintf("sources[%s]: role eval, but no row of it reached clean: ingest it first, and see reports/ingest.json for what its files gave", s.Name))
		case c.Kept == 0 && c.Removed[ReasonDuplicate] == c.In:
			// Held out through the eval rows its rows duplicate.
		case c.Kept == 0:
			problems = append(problems, fmt.Sprintf("sources[%s]: role eval, but clean removed all %d of its rows (%s; see removed/%s-*.parquet): turn off or loosen the filter that takes them in chimed.yaml's clean: section, or fix the source's mapping",
				s.Name, c.In, reasonList(c.Removed), s.Name))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("eval sets left empty (reports/clean.json is written):\n%s", strings.Join(problems, "\n"))
}

// reasonList writes removal counts largest first: "too_short 3, duplicate 1".
func reasonList(removed map[string]int64) string {
	reasons := make([]string, 0, len(removed))
	for k, n := range removed {
		if n > 0 {
			reasons = append(reasons, k)
		}
	}
	sort.Slice(reasons, func(i, j int) bool {
		if a, b := removed[reasons[i]], removed[reasons[j]]; a != b {
			return a > b
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, len(reasons))
	for i, k := range reasons {
		parts[i] = fmt.Sprintf("%s %d", k, removed[k])
	}
	return strings.Join(parts, ", ")
}
