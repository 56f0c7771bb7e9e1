package clean

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chimed/chimed/internal/runeclass"
	"github.com/chimed/chimed/schemas"
)

// checkProfile holds ProfileText's counts to their definitions, and each
// Skipper's CanSkip to its component's own quick test on the value.
func checkProfile(t *testing.T, s string) {
	t.Helper()
	p := ProfileText(s)
	han, letters := cjkCounts(s)
	digits := strings.Count(s, "0") // ASCII digits, counted another way
	for d := '1'; d <= '9'; d++ {
		digits += strings.Count(s, string(d))
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"Runes", p.Runes, utf8.RuneCountInString(s)},
		{"Han", p.Han, han},
		{"Letters", p.Letters, letters},
		{"Digits", p.Digits, digits},
		{"Invalid", p.Invalid, !utf8.ValidString(s)},
		{"invisible", invisibleNormaliser{}.CanSkip(&p), invisibleClean(s)},
		{"unicode", unicodeNormaliser{}.CanSkip(&p), runeclass.NFKCStable(s)},
		{"width", widthNormaliser{}.CanSkip(&p), !hasFullwidthAlnum(s)},
		{"whitespace", whitespaceNormaliser{}.CanSkip(&p), isTidy(s)},
		{"pii", piiMasker{}.CanSkip(&p), !piiMayMatch(s)},
	} {
		if c.got != c.want {
			t.Errorf("ProfileText(%q): %s = %v, want %v", s, c.name, c.got, c.want)
		}
	}
}

func TestProfileMatchesComponents(t *testing.T) {
	for _, s := range []string{
		"", "高血压", "高血压，头痛。", " 前导空格", "尾随空格 ", "两个  空格", "\n开头换行", "结尾换行\n",
		"一\n二", "一\n\n二", "一\n\n\n二", "一 \n二", "制表\t符", "回车\r\n换行", "换页\f符",
		"全角　空格", "不换行\u00a0空格", "零宽\u200b字符", "软连字符\u00ad", "BOM\ufeff", "控制\x01字符", "DEL\x7f",
		"无效\xff字节", "截断\xe4\xb8", "ＣＴ检查１０ｍｇ", "全角标点！？（）", "“引号”——破折号……", "①㎎℃",
		"ABC abc 123", "비타민 éé", "𠀀扩展B汉字", "〇㐀", "İstanbul", "电话1381234", "一二三四5678", "a@", "共12345次", "＠ｗｗｗ",
	} {
		checkProfile(t, s)
	}
}

func FuzzProfileText(f *testing.F) {
	for _, s := range []string{"高血压，头痛。", "一\n\n\n二 ", "ＣＴ\u3000\u200b\r\n", "\xff\xe4\xb8", "①㎎ 비타민"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkProfile(t, s) })
}

// TestApplyProfiledMatchesComponents runs the default steps through
// applyProfiled and through each component's own Normalise and Check, on
// values that each skip test lets through and values it does not.
func TestApplyProfiledMatchesComponents(t *testing.T) {
	steps, err := buildSteps(DefaultSteps())
	if err != nil {
		t.Fatal(err)
	}
	ks := steps[schemas.KindQA]
	if !ks.profiles {
		t.Fatal("the default qa steps read no Profile")
	}
	values := []string{
		"高血压患者头痛怎么办？", "问：ＣＴ检查１０ｍｇ　正常吗？\r\n答：", " 两个  空格\n\n\n", "零宽\u200b字符和\x01控制",
		"您好，建议复查血压。感谢您的咨询，祝您早日康复！", "电话13800138000，请联系", "e\u0301 不是 NFC", "短",
		"abc abc abc abc abc abc abc abc abc abc abc abc", "Only English words here, no Chinese at all in it.",
	}
	for _, q := range values {
		for _, a := range values {
			want := schemas.QA{Question: q, Answer: a}
			wantT := Tally{}
			for _, f := range want.TextFields() {
				for _, n := range ks.normalisers {
					*f.Value = n.Normalise(f.Name, *f.Value, wantT)
				}
			}
			var wantReason, wantDetail string
			for _, fl := range ks.filters {
				if wantReason, wantDetail = fl.Check(&want); wantReason != "" {
					break
				}
			}
			got := schemas.QA{Question: q, Answer: a}
			gotT := Tally{}
			reason, detail, _ := ks.applyProfiled(&got, got.TextFields(), gotT, nil)
			if got != want || reason != wantReason || detail != wantDetail {
				t.Errorf("(%q, %q): applyProfiled gave %q %q %+v, the components %q %q %+v", q, a, reason, detail, got, wantReason, wantDetail, want)
			}
			if len(gotT) != len(wantT) {
				t.Errorf("(%q, %q): tally %v, want %v", q, a, gotT, wantT)
			}
			for k, v := range wantT {
				if gotT[k] != v {
					t.Errorf("(%q, %q): tally %v, want %v", q, a, gotT, wantT)
					break
				}
			}
		}
	}
}

// TestProfileLayout checks each Layout flag on the value that sets it
// alone.
func TestProfileLayout(t *testing.T) {
	for _, c := range []struct {
		s    string
		want Layout
	}{
		{"一 二\n三\n\n四", 0},
		{" 一", SpaceAfterBreak},
		{"一  二", SpaceAfterBreak},
		{"一\n 二", SpaceAfterBreak},
		{"一 \n二", SpaceBeforeBreak},
		{"一\n\n\n二", BlankLines},
		{"一\n\n二\n\n二", 0},
		{"\n一", BreakAtEdge},
		{"一\n", BreakAtEdge},
		{"一 ", BreakAtEdge},
		{"一 \n\n\n 二 ", SpaceAfterBreak | SpaceBeforeBreak | BlankLines | BreakAtEdge},
	} {
		if got := ProfileText(c.s).Layout; got != c.want {
			t.Errorf("ProfileText(%q).Layout = %04b, want %04b", c.s, got, c.want)
		}
	}
}
