package ingest

import (
	"fmt"
	"sort"
	"strings"
)

// CheckError is Run's error when, with everything written, the counts show
// a source that cannot be what its user meant: more quarantined records
// than its max_quarantine, or an eval source with no row. Each problem
// says what to fix.
type CheckError struct {
	Problems []error
}

func (e *CheckError) Error() string {
	var b strings.Builder
	what := "a source fails its checks"
	if len(e.Problems) > 1 {
		what = fmt.Sprintf("%d sources fail their checks", len(e.Problems))
	}
	fmt.Fprintf(&b, "%s (every output and reports/ingest.json are written):", what)
	for _, p := range e.Problems {
		b.WriteString("\n")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap gives the problems to errors.Is and errors.As.
func (e *CheckError) Unwrap() []error { return e.Problems }

// QuarantineOverrun is a source that quarantined more of its records than
// its max_quarantine allows, with the first errors, which usually show the
// cause at once (a format the preset does not fit, a mapped field missing).
type QuarantineOverrun struct {
	Source      string
	Quarantined int64 // records and lookup rows quarantined
	Records     int64 // records and lookup rows read
	Limit       Share
	First       []string // "file:line (row r, byte b): error", at most firstErrorsShown
}

func (o *QuarantineOverrun) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sources[%s]: %d of %d records quarantined (%s), more than max_quarantine %s; first errors:",
		o.Source, o.Quarantined, o.Records, Share(float64(o.Quarantined)/float64(o.Records)).rounded(), o.Limit)
	for _, f := range o.First {
		b.WriteString("\n    ")
		b.WriteString(f)
	}
	fmt.Fprintf(&b, "\n  every one is in quarantine/%s-*.parquet: fix the source's format or mapping, or set its max_quarantine", o.Source)
	return b.String()
}

// rounded writes a share as a percentage with at most one decimal, never
// rounding a non-zero share to 0% or a share below 1 to 100%.
func (r Share) rounded() string {
	p := float64(r) * 100
	s := fmt.Sprintf("%.1f", p)
	switch {
	case p > 0 && s == "0.0":
		s = "<0.1"
	case p < 100 && s == "100.0":
		s = ">99.9"
	}
	return strings.TrimSuffix(s, ".0") + "%"
}

// checkQuarantine returns the source's overrun, or nil when it quarantined
// no more than its limit. Lookup rows of a join count with its records:
// a question file that joins nothing is as lost as one that cannot be read.
func checkQuarantine(s *Source, res *sourceResult) *QuarantineOverrun {
	q, n := res.Quarantined, res.Read
	if l := res.Lookup; l != nil {
		q += l.Quarantined
		n += l.Read
	}
	limit := s.QuarantineLimit()
	if n == 0 || float64(q) <= float64(limit)*float64(n) {
		return nil
	}
	return &QuarantineOverrun{Source: s.Name, Quarantined: q, Records: n, Limit: limit, First: res.first}
}

// checkEval fails an eval source that gave no row: with an empty eval set
// nothing is held out, clean's decontamination has nothing to check, and
// every evaluation number is missing.
func checkEval(s *Source, c Counts) error {
	if !s.IsEval() || c.Written > 0 {
		return nil
	}
	if c.Read == 0 {
		return fmt.Errorf("sources[%s]: role eval, but its files hold no record: check its paths, or its format (json.records for records inside a JSON document)", s.Name)
	}
	return fmt.Errorf("sources[%s]: role eval, but all %d of its records were quarantined: fix its format or mapping (see quarantine/%s-*.parquet); an empty eval set holds nothing out and leaves decontamination nothing to check", s.Name, c.Read, s.Name)
}

// mixedFiles warns when a source's files were read as different formats,
// or (among text files) different encodings: a glob such as *.txt that
// also picks up a SOURCE.txt or README.txt beside the data. It names the
// files outside the largest group. Empty files say nothing, and an ASCII
// file reads the same in UTF-8 and GB18030, so it differs from neither.
func mixedFiles(source string, files []fileSniff) []string {
	var warnings []string
	formats := map[string][]string{}
	encodings := map[string][]string{}
	for _, f := range files {
		if f.empty {
			continue
		}
		formats[string(f.format)] = append(formats[string(f.format)], f.rel)
		if f.encoding != "" && !(f.ascii && !strings.HasPrefix(f.encoding, "utf-16")) {
			encodings[f.encoding] = append(encodings[f.encoding], f.rel)
		}
	}
	if w := oddGroups(formats); w != "" {
		warnings = append(warnings, fmt.Sprintf("sources[%s]: files read as different formats: %s; are they all data (check the paths globs)?", source, w))
	}
	if w := oddGroups(encodings); w != "" {
		warnings = append(warnings, fmt.Sprintf("sources[%s]: files read in different encodings: %s; are they all data (check the paths globs)? Else set the source's encoding", source, w))
	}
	return warnings
}

// oddGroups describes groups of files when there is more than one: the
// largest by its count, every other by the names of its files (a few,
// then how many more). "" when all files are in one group.
func oddGroups(groups map[string][]string) string {
	if len(groups) < 2 {
		return ""
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if a, b := len(groups[keys[i]]), len(groups[keys[j]]); a != b {
			return a > b
		}
		return keys[i] < keys[j]
	})
	const named = 5
	parts := []string{fmt.Sprintf("%d as %s", len(groups[keys[0]]), keys[0])}
	for _, k := range keys[1:] {
		files := groups[k]
		shown := files[:min(len(files), named)]
		p := k + ": " + strings.Join(shown, ", ")
		if len(files) > named {
			p += fmt.Sprintf(" and %d more", len(files)-named)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
