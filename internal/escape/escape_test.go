package escape

import "testing"

func TestControls(t *testing.T) {
	tests := []struct {
		name, in, one, lines string
	}{
		{"plain text is unchanged", "invalid JSON: 发热", "invalid JSON: 发热", "invalid JSON: 发热"},
		{"NUL", "invalid character '\x00' looking for beginning of value", `invalid character '\x00' looking for beginning of value`, `invalid character '\x00' looking for beginning of value`},
		{"ANSI escape", "\x1b[31mred", `\x1b[31mred`, `\x1b[31mred`},
		{"DEL and C1", "a\x7fb\u0085c", `a\x7fb\u0085c`, `a\x7fb\u0085c`},
		{"newline and tab", "a\nb\tc\r", `a\nb\tc\r`, "a\nb\tc\\r"},
		{"invalid UTF-8", "a\xffb", `a\xffb`, `a\xffb`},
		{"bidi override", "abc\u202edef", `abc\u202edef`, `abc\u202edef`},
		{"line separator", "a\u2028b", `a\u2028b`, `a\u2028b`},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Controls(tt.in); got != tt.one {
				t.Errorf("Controls(%q) = %q, want %q", tt.in, got, tt.one)
			}
			if got := ControlsKeepLines(tt.in); got != tt.lines {
				t.Errorf("ControlsKeepLines(%q) = %q, want %q", tt.in, got, tt.lines)
			}
		})
	}
}

func FuzzControls(f *testing.F) {
	for _, s := range []string{"", "a\x00b", "发热\n", "\xff\xfe", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Controls(s), ControlsKeepLines(s)} {
			for i, r := range out {
				if unsafe(r, len(string(r)), true) && !(r == 0xfffd && out[i:i+3] == "\uFFFD") {
					t.Fatalf("%q escaped to %q, which still holds %U", s, out, r)
				}
			}
		}
		if got := Controls(s); containsAny(got, "\n\t") {
			t.Fatalf("Controls(%q) = %q has a newline or tab", s, got)
		}
	})
}

func containsAny(s, chars string) bool {
	for _, c := range s {
		for _, d := range chars {
			if c == d {
				return true
			}
		}
	}
	return false
}
