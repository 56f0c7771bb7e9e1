package clean

import "testing"

func TestMaskPII(t *testing.T) {
	tests := []struct{ in, want string }{
		{"请拨打13812345678咨询", "请拨打[PHONE]咨询"},
		{"邮箱 zhang.san@example.com", "邮箱 [EMAIL]"},
		{"每日3次，每次500mg", "每日3次，每次500mg"},
	}
	for _, tc := range tests {
		if got := MaskPII(tc.in); got != tc.want {
			t.Errorf("MaskPII(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
