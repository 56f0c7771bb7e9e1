package clean

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestPIIMask is the PII table: every positive is masked with its typed
// placeholder, and every negative — doses, dates, lab values, ICD codes,
// case numbers and numbers that fail validation — stays untouched.
func TestPIIMask(t *testing.T) {
	cases := piiMaskCases
	if len(cases) < 100 {
		t.Fatalf("only %d cases", len(cases))
	}
	m := piiMasker{}
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.in
		}
		if got := m.Normalise("text", c.in, Tally{}); got != want {
			t.Errorf("mask(%q) = %q, want %q", c.in, got, want)
		}
		if want != c.in && !piiMayMatch(c.in) {
			t.Errorf("piiMayMatch(%q) = false, but it is masked", c.in)
		}
	}
}

func TestPIICounters(t *testing.T) {
	tally := Tally{}
	piiMasker{}.Normalise("text", "电话13812345678或010-62345678，邮箱a@b.com，身份证11010519491231002X", tally)
	want := Tally{"pii.phone": 2, "pii.email": 1, "pii.id": 1}
	if len(tally) != len(want) {
		t.Fatalf("tally = %v, want %v", tally, want)
	}
	for k, v := range want {
		if tally[k] != v {
			t.Errorf("tally[%s] = %d, want %d", k, tally[k], v)
		}
	}
}

func FuzzPIIMask(f *testing.F) {
	for _, s := range []string{"电话13812345678", "11010519491231002X", "a@b.com", "QQ：12345", "http://x.y", "每次10mg",
		"(0571)8888-1234 转 123", "电话：8888-1234", "登录IP：192.168.1.23", "护照号E12345678", "微信号：123456789", "6222 0210 0112 3456 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := piiMasker{}.Normalise("text", s, Tally{})
		if out != s && !piiMayMatch(s) {
			t.Errorf("piiMayMatch(%q) = false, but it is masked as %q", s, out)
		}
		// Masking again finds nothing new: placeholders are not PII.
		if again := (piiMasker{}).Normalise("text", out, Tally{}); again != out {
			t.Errorf("not idempotent: %q → %q → %q", s, out, again)
		}
	})
}

// TestNumberMatchesSameAsWholeString checks the run-splitting shortcut of
// the number detectors against the regexp on the whole value, on random
// mixes of digits, separators, parentheses, letters and Chinese text.
func TestNumberMatchesSameAsWholeString(t *testing.T) {
	pieces := []string{"0", "1", "3", "8", "6", "9", "2", "5", " ", "-", "+", "(", ")", "（", "）", "X", "x",
		"13812345678", "11010519491231002X", "6222021001123456789", "010-", "0571", "86", "a", "电话", "，", "号"}
	rng := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(30) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		for _, re := range numberRegexps {
			want := re.FindAllStringSubmatchIndex(s, -1)
			if got := numberMatches(re, s); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s on %q: runs give %v, whole string %v", re, s, got, want)
			}
			checked += len(want)
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d matches compared; the generator should produce more", checked)
	}
}

// TestHasWeChatASCII checks the one-pass marker test against lowercasing
// the value and searching for each marker.
func TestHasWeChatASCII(t *testing.T) {
	pieces := []string{"w", "W", "x", "X", "v", "V", "e", "E", "i", "n", "c", "h", "a", "t", "T", "中", " "}
	rng := rand.New(rand.NewPCG(3, 4))
	hits := 0
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		l := strings.ToLower(s)
		want := strings.Contains(l, "wx") || strings.Contains(l, "vx") || strings.Contains(l, "weixin") || strings.Contains(l, "wechat")
		if got := hasWeChatASCII(s); got != want {
			t.Fatalf("hasWeChatASCII(%q) = %v, want %v", s, got, want)
		}
		if want {
			hits++
		}
	}
	for _, s := range []string{"WeiXin", "weCHAT", "请加WECHAT"} {
		if !hasWeChatASCII(s) {
			t.Errorf("hasWeChatASCII(%q) = false", s)
		}
	}
	if hits < 100 {
		t.Fatalf("only %d positives generated", hits)
	}
}

// piiMayMatch is the test the pii Skipper is held to, on its own: an
// ASCII letter, an '@' or at least five ASCII digits (see piiMasker's
// CanSkip).
func piiMayMatch(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '@', c|0x20 >= 'a' && c|0x20 <= 'z':
			return true
		}
	}
	return digits >= 5
}

// piiMaskCases are values and their masked form ("" for unchanged).
var piiMaskCases = []struct{ in, want string }{
	// Mobile numbers.
	{"我的电话13812345678", "我的电话[PHONE]"},
	{"联系方式：138-1234-5678", "联系方式：[PHONE]"},
	{"联系方式：138 1234 5678。", "联系方式：[PHONE]。"},
	{"+8613912345678请回电", "+[PHONE]请回电"[:0] + "[PHONE]请回电"},
	{"86-15012345678", "[PHONE]"},
	{"0086 18612345678", "[PHONE]"},
	{"手机：19912345678，微信同号", "手机：[PHONE]，微信同号"},
	{"电话17712345678或16612345678", "电话[PHONE]或[PHONE]"},
	{"(15912345678)", "([PHONE])"},
	{"拨打14712345678咨询", "拨打[PHONE]咨询"},
	{"tel:13012345678", "tel:[PHONE]"},
	{"13512345678", "[PHONE]"},
	// Landlines.
	{"医院电话010-62345678", "医院电话[PHONE]"},
	{"座机0571-87654321转8", "座机[PHONE]"},
	{"(010)62345678", "[PHONE]"},
	{"（021）52345678", "[PHONE]"},
	{"0755-2345678", "[PHONE]"},
	{"挂号电话：020-83827812-123", "挂号电话：[PHONE]"},
	{"(0571)8888-1234 转 123", "[PHONE]"},
	{"0755 8888 1234", "[PHONE]"},
	{"总机010-12345678分机4567，", "总机[PHONE]，"},
	{"010-12345678", "[PHONE]"},
	{"电话：8888-1234", "电话：[PHONE]"},
	{"座机 23456789。", "座机 [PHONE]。"},
	{"联系电话057187654321", "联系电话[PHONE]"},
	{"Tel: 888 1234", "Tel: [PHONE]"},
	{"hotel 88881234", ""},
	{"电话：12345678", ""},
	{"057-12345678", ""},
	{"0123-4567890", ""},
	{"86 138 1103 2742 清华大学玉泉医院", "[PHONE] 清华大学玉泉医院"},
	{"(+86)13812345678", "[PHONE]"},
	// Resident identity numbers (valid check digit and date).
	{"身份证号11010519491231002X", "身份证号[ID]"},
	{"身份证号11010519491231002x。", "身份证号[ID]。"},
	{"ID:440308199901011234", "ID:[ID]"},
	{"患者320583198511125673就诊", "患者[ID]就诊"},
	{"510107200002293318", "[ID]"},
	{"证件号370202197606150046，", "证件号[ID]，"},
	// Bank cards (Luhn).
	{"卡号6222021001123456789", "卡号[BANKCARD]"},
	{"卡号6217 0012 3456 7890 122", "卡号[BANKCARD]"},
	{"4111111111111111", "[BANKCARD]"},
	{"5454-5454-5454-5454", "[BANKCARD]"},
	{"转账到6228480402564890018即可", "转账到[BANKCARD]即可"},
	{"4111 1111 1111 1111", "[BANKCARD]"},
	// 17 and 18 digits (UnionPay), whole and grouped.
	{"卡号62220210011234563", "卡号[BANKCARD]"},
	{"卡号622202100112345678", "卡号[BANKCARD]"},
	{"卡号6222 0210 0112 3456 3", "卡号[BANKCARD]"},
	{"卡号6222-0210-0112-3456-78", "卡号[BANKCARD]"},
	{"6222 0210 0112 3456 789", "[BANKCARD]"},
	// Passports, where marked.
	{"护照号：E12345678", "护照号：[PASSPORT]"},
	{"护照号码 EA1234567。", "护照号码 [PASSPORT]。"},
	{"Passport No. G12345678", "Passport No. [PASSPORT]"},
	{"批号E12345678", ""},
	// IPv4.
	{"登录IP：192.168.1.23", "登录IP：[IP]"},
	{"服务器 10.0.0.12 已重启", "服务器 [IP] 已重启"},
	{"ping 114.114.114.114", "ping [IP]"},
	{"网段10.8.0.0/24", "网段[IP]/24"},
	{"右附件巧克力囊肿5.64.52.9，", ""},
	{"见指南1.2.3.4节", ""},
	{"版本号：10.2.0.15", ""},
	{"192.168.1.300", ""},
	{"1.2.3.4.5", ""},
	// E-mail.
	{"邮箱zhang.san@example.com", "邮箱[EMAIL]"},
	{"发送至 doctor_li+med@hospital.org.cn 。", "发送至 [EMAIL] 。"},
	{"a@b.cn", "[EMAIL]"},
	{"联系user123@qq.com咨询", "联系[EMAIL]咨询"},
	{"Email: WANG@163.COM", "Email: [EMAIL]"},
	{"x-y_z@sub.domain.io", "[EMAIL]"},
	// URLs.
	{"详见https://www.example.com/a?b=1", "详见[URL]"},
	{"访问http://med.example.cn/page.html了解", "访问[URL]了解"},
	{"www.haodf.com上有", "[URL]上有"},
	{"链接：HTTPS://EXAMPLE.COM/X", "链接：[URL]"},
	{"see http://a.b/c#d", "see [URL]"},
	{"https://example.org", "[URL]"},
	// QQ and WeChat where marked.
	{"QQ：12345678", "QQ：[QQ]"},
	{"qq号 987654321", "qq号 [QQ]"},
	{"加扣扣:10001", "加扣扣:[QQ]"},
	{"QQ是2345678901", "QQ是[QQ]"},
	{"微信：zhang_san88", "微信：[WECHAT]"},
	{"微信号:abc-12345", "微信号:[WECHAT]"},
	{"wx:doctorWang1", "wx:[WECHAT]"},
	{"vx：Med_help2020", "vx：[WECHAT]"},
	{"微信是13812345678", "微信是[WECHAT]"},
	{"微信号：123456789", "微信号：[WECHAT]"},
	{"VX abc_12345", "VX [WECHAT]"},
	{"QQ号码: 2345678", "QQ号码: [QQ]"},
	{"QQ群：123456789", "QQ群：[QQ]"},
	{"微信12345", ""},
	{"WeChat: liu_yi_sheng", "WeChat: [WECHAT]"},
	{"方便的话加我微信pkang99331。", "方便的话加我微信[WECHAT]。"},
	{"关注微信公众号获取报告", ""},
	{"wxyz12345", ""},
	// Several kinds in one value.
	{"电话13812345678，邮箱a@b.com", "电话[PHONE]，邮箱[EMAIL]"},
	{"身份证11010519491231002X 手机13912345678", "身份证[ID] 手机[PHONE]"},

	// Negatives: doses.
	{"每次10mg，一日3次", ""},
	{"阿莫西林0.5g tid", ""},
	{"每日剂量不超过4000mg", ""},
	{"胰岛素12U皮下注射", ""},
	{"静滴250ml，每分钟40滴", ""},
	{"口服1片/次，3次/日", ""},
	{"剂量按20mg/kg计算", ""},
	{"维生素D 400IU每日", ""},
	// Dates and times.
	{"2023-01-05就诊", ""},
	{"2023年1月5日复查", ""},
	{"20230105", ""},
	{"1990-12-31出生", ""},
	{"2021/03/15 08:30", ""},
	{"术后第14天拆线", ""},
	{"199001011234", ""},
	// Lab values.
	{"白细胞12.5×10^9/L", ""},
	{"血糖7.8mmol/L", ""},
	{"血压140/90mmHg", ""},
	{"血小板 350x10^9/L", ""},
	{"HbA1c 6.5%", ""},
	{"ALT 120 U/L，AST 98 U/L", ""},
	{"体温39.2℃", ""},
	{"心率110次/分", ""},
	{"肌酐 132 μmol/L", ""},
	// ICD and other codes.
	{"ICD-10编码I10", ""},
	{"诊断E11.9", ""},
	{"J45.901哮喘", ""},
	{"ICD-11: 5A11", ""},
	{"K35.8急性阑尾炎", ""},
	{"批准文号国药准字H20003263", ""},
	{"病案号1234567", ""},
	{"住院号 20230012345", ""},
	// Phone-like strings that fail validation.
	{"12345678901", ""},
	{"10012345678", ""},
	{"138123456789", ""},
	{"1381234567", ""},
	{"a13812345678", ""},
	{"13812345678b", ""},
	{"123-4567-8901", ""},
	{"HBV-DNA 15800000000 IU/ml", ""},
	{"HBV DNA 13800000000拷贝/ml", ""},
	{"0.13812345678", ""},
	{"编号 88881234", ""},
	{"010-123456", ""},
	// Identity numbers that fail validation.
	{"110105194912310021", ""},
	{"440308199913011234", ""},
	{"4403081999010112345", ""},
	{"000000000000000000", ""},
	{"11010519491231002Y", ""},
	{"身份证号110105194912310022，", ""}, // ID-shaped: a mistyped ID, never read as a card
	// Card numbers that fail Luhn.
	{"6222021001123456788", ""},
	{"4111111111111112", ""},
	{"1234 5678 9012 3456", ""},
	// Unmarked QQ/WeChat-like numbers and plain text.
	{"编号12345678", ""},
	{"微信支付", ""},
	{"我用微信和QQ联系医生", ""},
	{"QQ空间", ""},
	{"门诊量100000人次", ""},
	{"高血压的治疗方法有哪些？", ""},
	{"www", ""},
	{"@所有人 请注意", ""},
	{"", ""},
}
