package stages

import (
	"fmt"
	"sort"
	"strings"
)

// checkEval fails a build in which an eval source (role: eval) put no row
// into an eval set: its questions are then held out of nothing, the
// leakage check has nothing to check, and evaluation has no numbers. The
// manifest is written first, so its per-source counts say where the rows
// went.
func checkEval(m *Manifest, evalSources map[string]bool) error {
	names := make([]string, 0, len(evalSources))
	for n, eval := range evalSources {
		if eval {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var problems []string
	for _, n := range names {
		s := m.Sources[n]
		switch {
		case (s == nil || s.In == 0) && m.Eval["exam"]+m.Eval["qa"] > 0:
			// No clean row, but the eval sets have rows: clean kept its
			// rows through the eval copies they duplicate (clean fails
			// on an eval source emptied any other way).
		case s == nil || s.In == 0:
			problems = append(problems, fmt.Sprintf("sources[%s]: role eval, but no clean row of it: see reports/clean.json for where its rows went", n))
		case !isEvalKind(s.Kind):
			problems = append(problems, fmt.Sprintf("sources[%s]: role eval, but eval sets take exam, qa and dialogue sources, not %s: its %d rows go nowhere; drop its role: eval", n, s.Kind, s.In))
		case s.Used == 0:
			problems = append(problems, fmt.Sprintf("sources[%s]: role eval, but none of its %d clean rows could go into an eval set (%s): fix the source's mapping",
				n, s.In, unusedList(s.Unused)))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("eval sets left empty (stages/manifest.json is written):\n%s", strings.Join(problems, "\n"))
}

// unusedList writes reasons largest first: "exam_bad_answer 3, empty 1".
func unusedList(unused map[string]int64) string {
	reasons := make([]string, 0, len(unused))
	for k, n := range unused {
		if n > 0 {
			reasons = append(reasons, k)
		}
	}
	sort.Slice(reasons, func(i, j int) bool {
		if a, b := unused[reasons[i]], unused[reasons[j]]; a != b {
			return a > b
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, len(reasons))
	for i, k := range reasons {
		parts[i] = fmt.Sprintf("%s %d", k, unused[k])
	}
	return strings.Join(parts, ", ")
}
