package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Text splits.
const (
	SplitLine    = "line"
	SplitBlank   = "blank"
	SplitPattern = "pattern"
)

// textRecord is one plain-text record being gathered from its lines.
type textRecord struct {
	buf     []byte
	line    int64 // first line
	offset  int64 // offset of the first line
	size    int64 // bytes seen, kept or not
	over    bool  // over the record cap: buf was dropped
	invalid error // first invalid bytes met
	started bool
}

func (t *textRecord) reset() { *t = textRecord{buf: t.buf[:0]} }

// add appends one line to the record, keeping it only while under max. A
// record before the shard's span is only counted, so its text is not kept.
func (t *textRecord) add(fr *fileReader, tl textLine) {
	if !t.started {
		t.started, t.line, t.offset = true, tl.line, tl.offset
	} else {
		t.size++ // the newline between lines
	}
	t.size += tl.size
	if fr.span.before(t.offset) {
		return
	}
	if tl.over || t.size > fr.maxRecord {
		t.over, t.buf = true, t.buf[:0]
		return
	}
	if t.invalid == nil {
		if i := fr.checkText(tl.text); i >= 0 {
			t.invalid = fr.invalidBytes(tl.text, i, tl.offset+int64(i))
		}
	}
	if len(t.buf) > 0 || t.size > tl.size {
		t.buf = append(t.buf, '\n')
	}
	t.buf = append(t.buf, tl.text...)
}

// readText reads plain text cut into records per line, per blank-line
// block or at each line matching a pattern (src.Text), and hands each to
// the text parser if one is named. Of a shard's piece of the file (span) it
// yields the records whose first line starts in it: every record before is
// still cut and counted, not parsed, so rows keep their ordinals; reading
// stops at the first record that starts past it. Whatever the split, a
// record's start is found by reading from the top, so every record lands
// in exactly one piece.
func (fr *fileReader) readText(r io.Reader) {
	opts := fr.src.Text
	var pattern *regexp.Regexp
	switch opts.Split {
	case "", SplitLine, SplitBlank:
	case SplitPattern:
		var err error
		if pattern, err = regexp.Compile(opts.Pattern); err != nil || opts.Pattern == "" {
			fr.fail(Location{Offset: -1}, true, fmt.Errorf("text.pattern %q: not a usable regexp (%v)", opts.Pattern, err))
			return
		}
	default:
		fr.fail(Location{Offset: -1}, true, fmt.Errorf("text.split %q: want line, blank or pattern", opts.Split))
		return
	}
	parse, err := textParser(opts.Parser)
	if err != nil {
		fr.fail(Location{Offset: -1}, true, err)
		return
	}
	lr := newLineReader(r, fr.maxRecord, int64(fr.enc.bom))
	var rec textRecord
	var row int64
	flush := func() bool {
		if !rec.started {
			return true
		}
		loc := Location{Line: rec.line, Row: row, Offset: rec.offset}
		row++
		defer rec.reset()
		if fr.span.before(rec.offset) {
			return true // an earlier piece's
		}
		text := string(bytes.TrimRight(rec.buf, " \t\r\n"))
		switch {
		case rec.over:
			return fr.fail(loc, false, tooLong(rec.size))
		case rec.invalid != nil:
			return fr.failText(loc, text, rec.invalid)
		}
		fields := textFields(text)
		if parse != nil {
			if err := parse(text, fields); err != nil {
				return fr.failText(loc, text, err)
			}
		}
		return fr.emit(Raw{Loc: loc, Fields: fields, Text: Truncate(text, MaxRawText), Views: textViews})
	}
	// add starts or extends the record; false ends the piece, at the
	// first record that starts past it.
	add := func(tl textLine) bool {
		if !rec.started && fr.span.past(tl.offset) {
			return false
		}
		rec.add(fr, tl)
		return true
	}
	for {
		tl, err := lr.next()
		if err == io.EOF {
			flush()
			return
		}
		if err != nil {
			if !flush() || fr.span.past(tl.offset) {
				return
			}
			// An I/O error fails the shard wherever it is; any other is
			// the piece's that holds it.
			if !fr.span.before(tl.offset) || errors.Is(err, ErrUnreadable) {
				fr.fail(Location{Line: tl.line, Row: row, Offset: tl.offset}, true, err)
			}
			return
		}
		blank := !tl.over && len(bytes.TrimSpace(tl.text)) == 0
		switch {
		case pattern != nil:
			if !tl.over && pattern.Match(tl.text) {
				if !flush() {
					return
				}
			}
			if blank && !rec.started {
				continue // nothing before the first record but space
			}
			if !add(tl) {
				return
			}
		case opts.Split == SplitBlank:
			if blank {
				if !flush() {
					return
				}
				continue
			}
			if !add(tl) {
				return
			}
		default:
			if blank {
				continue
			}
			if !add(tl) || !flush() {
				return
			}
		}
	}
}

// textViews are textFields' fields, all views of one text.
var textViews = []string{"text", "head", "body"}

// textFields gives a text record's raw fields: the whole text, its first
// line and the rest.
func textFields(text string) map[string]any {
	head, body, _ := strings.Cut(text, "\n")
	return map[string]any{"text": text, "head": strings.TrimSpace(head), "body": strings.TrimSpace(body)}
}

// textParser looks up a text.parser by name; nil means none.
func textParser(name string) (func(text string, fields map[string]any) error, error) {
	switch name {
	case "":
		return nil, nil
	case "meddialog":
		return parseMedDialog, nil
	}
	return nil, fmt.Errorf("text.parser %q: unknown (want meddialog)", name)
}

// MedDialog section headers and speakers.
const (
	medDescription = "Description"
	medDialogue    = "Dialogue"
	medDiagnosis   = "Diagnosis and suggestions"
	medFaculty     = "Doctor faculty"
)

var medSpeakers = []string{"病人：", "医生："}

// parseMedDialog reads one MedDialog-CN consultation (a text record split at
// "id=N" lines) into raw fields: "id", "url", "description" (an object of
// the Description "key：value" lines; a value may run over several lines,
// and later Description sections of follow-up visits add keys or extend
// them), "dialogue" (a list of "病人：…"/"医生：…" strings in order over
// every Dialogue section, the lines of one utterance joined by newlines),
// "diagnosis" and "doctor_faculty" when present.
func parseMedDialog(text string, fields map[string]any) error {
	lines := strings.Split(text, "\n")
	first := strings.TrimSpace(lines[0])
	id, ok := strings.CutPrefix(first, "id=")
	if !ok || id == "" {
		return fmt.Errorf("meddialog: record does not start with an id=N line")
	}
	fields["id"] = strings.TrimSpace(id)
	description := map[string]any{}
	var dialogue []any
	var diagnosis, faculty []string
	var utterance strings.Builder
	speaking := false
	lastKey := ""
	endUtterance := func() {
		if speaking && utterance.Len() > 0 && !isSpeakerOnly(utterance.String()) {
			dialogue = append(dialogue, utterance.String())
		}
		utterance.Reset()
		speaking = false
	}
	section := ""
	for _, raw := range lines[1:] {
		line := strings.TrimRight(raw, " \t\r\u3000")
		trimmed := strings.TrimSpace(line)
		switch trimmed {
		case medDescription, medDialogue, medDiagnosis, medFaculty:
			endUtterance()
			section, lastKey = trimmed, ""
			continue
		}
		if trimmed == "" {
			continue
		}
		switch section {
		case "":
			if strings.HasPrefix(trimmed, "http") {
				fields["url"] = trimmed
			} else {
				description["_preamble"] = joinLine(description["_preamble"], trimmed)
			}
		case medDescription:
			if key, value, ok := descriptionLine(trimmed); ok {
				lastKey = key
				description[key] = joinLine(description[key], value)
			} else {
				if lastKey == "" {
					lastKey = "_preamble"
				}
				description[lastKey] = joinLine(description[lastKey], trimmed)
			}
		case medDialogue:
			if speaker, rest, ok := speakerLine(trimmed); ok {
				endUtterance()
				speaking = true
				utterance.WriteString(speaker)
				utterance.WriteString(rest)
				continue
			}
			if !speaking {
				speaking = true // text before any speaker line is kept as is
			} else if !isSpeakerOnly(utterance.String()) {
				utterance.WriteByte('\n')
			}
			utterance.WriteString(trimmed)
		case medDiagnosis:
			diagnosis = append(diagnosis, trimmed)
		case medFaculty:
			faculty = append(faculty, trimmed)
		}
	}
	endUtterance()
	fields["description"] = description
	if dialogue == nil {
		dialogue = []any{}
	}
	fields["dialogue"] = dialogue
	if diagnosis != nil {
		fields["diagnosis"] = strings.Join(diagnosis, "\n")
	}
	if faculty != nil {
		fields["doctor_faculty"] = strings.Join(faculty, "\n")
	}
	return nil
}

// speakerLine splits "病人：" or "医生：…" into the speaker prefix and the
// rest of the line.
func speakerLine(line string) (speaker, rest string, ok bool) {
	for _, s := range medSpeakers {
		if r, ok := strings.CutPrefix(line, s); ok {
			return s, strings.TrimSpace(r), true
		}
	}
	return "", "", false
}

func isSpeakerOnly(s string) bool {
	for _, sp := range medSpeakers {
		if s == sp {
			return true
		}
	}
	return false
}

// descriptionLine splits a Description line "疾病： 肺炎相关". A short key
// of words is required, so a continuation line such as "21：盐酸氨溴索胶囊"
// (a date inside 用药情况) stays part of the value before it.
func descriptionLine(line string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(line, "：")
	if !ok {
		return "", "", false
	}
	key = strings.TrimSpace(key)
	if n := len([]rune(key)); n == 0 || n > 16 {
		return "", "", false
	}
	words := false
	for _, r := range key {
		if r > 0x7f || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
			words = true
			break
		}
	}
	if !words {
		return "", "", false
	}
	return key, strings.TrimSpace(value), true
}

// joinLine appends a line to a value that may already hold text.
func joinLine(prev any, line string) string {
	if s, _ := prev.(string); s != "" {
		return s + "\n" + line
	}
	return line
}
