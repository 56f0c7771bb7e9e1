package workspace

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"huatuo26m-test", true},
		{"cMedQA2_v1.0", true},
		{"医学百科", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"../../../x/PWNED", false},
		{"/abs", false},
		{"a/b", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{".staging", false},
		{strings.Repeat("x", 201), false},
	}
	for _, tt := range tests {
		err := CheckName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
