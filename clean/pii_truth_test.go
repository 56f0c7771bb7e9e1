package clean

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// PIITruthRow is one row of a PII truth table: Value planted between
// Before and After. A row of a masked Type (a placeholder's type: "phone",
// "bankcard", …) must come out as Before + the placeholder + After; a
// look-alike row (Mask false; Type says what it is: "dose", "date", …)
// must come out unchanged.
type PIITruthRow struct {
	Type                 string
	Mask                 bool
	Before, Value, After string
}

// piiPlaceholders maps each masked type of the truth tables to its
// placeholder.
var piiPlaceholders = map[string]string{
	"email": "[EMAIL]", "url": "[URL]", "passport": "[PASSPORT]", "qq": "[QQ]", "wechat": "[WECHAT]",
	"id": "[ID]", "bankcard": "[BANKCARD]", "mobile": "[PHONE]", "landline": "[PHONE]", "ip": "[IP]",
}

// PIITruthRows builds perType rows of every masked type and of every kind
// of look-alike, each planted in one of carriers (sentences with no PII in
// them) with a phrase a patient or doctor might write it in. The same
// carriers, perType and seed give the same rows.
func PIITruthRows(carriers []string, perType int, seed uint64) []PIITruthRow {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var rows []PIITruthRow
	for _, ty := range piiTruthTypes {
		typ, mask, gen := ty.typ, ty.mask, ty.gen
		for range perType {
			phrase, value := gen(r)
			pre, post, _ := strings.Cut(phrase, "%s")
			c := carriers[r.IntN(len(carriers))]
			// The phrase goes before, inside (at a sentence end) or after
			// the carrier.
			var before, after string
			switch ends := sentenceEnds(c); {
			case r.IntN(3) == 0:
				if post == "" || !strings.ContainsAny(post[len(post)-1:], " ,.") && !strings.HasSuffix(post, "。") && !strings.HasSuffix(post, "，") {
					post += "，" // the phrase ends before the carrier starts
				}
				before, after = "", post+c
			case r.IntN(2) == 0 && len(ends) > 0:
				at := ends[r.IntN(len(ends))]
				before, after = c[:at]+pre, post+c[at:]
				pre = ""
			default:
				before, after = c, post
			}
			rows = append(rows, PIITruthRow{Type: typ, Mask: mask, Before: before + pre, Value: value, After: after})
		}
	}
	return rows
}

// piiTruthTypes are the masked types and the look-alikes, in order, each
// with a generator of a phrase ("…%s…") and a value.
var piiTruthTypes = []struct {
	typ  string
	mask bool
	gen  func(*rand.Rand) (phrase, value string)
}{
	// Masked types.
	{"mobile", true, func(r *rand.Rand) (string, string) {
		n := fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
		v := pickOf(r, n, n[:3]+"-"+n[3:7]+"-"+n[7:], n[:3]+" "+n[3:7]+" "+n[7:], "+86"+n, "+86 "+n, "0086-"+n, "(+86)"+n)
		return pickOf(r, "我的手机号是%s，方便请回电。", "电话%s", "联系方式：%s。", "有事打%s找我"), v
	}},
	{"landline", true, func(r *rand.Rand) (string, string) {
		area := pickOf(r, "010", "021", "020", "025", "0571", "0755", "0898", "0311")
		local := fmt.Sprintf("%d%s", 2+r.IntN(8), randomDigits(r, 6+r.IntN(2)))
		if len(area) == 3 {
			local = fmt.Sprintf("%d%s", 2+r.IntN(8), randomDigits(r, 7))
		}
		split := local[:len(local)-4] + pickOf(r, "-", " ") + local[len(local)-4:]
		ext := pickOf(r, "", "-"+randomDigits(r, 3), " 转 "+randomDigits(r, 3), "转"+randomDigits(r, 2), " 分机"+randomDigits(r, 4))
		switch r.IntN(6) {
		case 0:
			return pickOf(r, "家里座机%s，白天有人接。", "医院电话%s"), area + "-" + local + ext
		case 1:
			return "咨询请拨%s。", "(" + area + ")" + split + ext
		case 2:
			return "单位电话是%s", "（" + area + "）" + local
		case 3:
			return "%s（科室）", area + " " + split
		case 4:
			return pickOf(r, "电话：%s", "座机 %s。", "固话是%s", "Tel: %s"), split + ext
		default:
			return pickOf(r, "联系电话%s，", "电话号码：%s"), area + local
		}
	}},
	{"id", true, func(r *rand.Rand) (string, string) {
		id := randomResidentID(r)
		if r.IntN(4) == 0 {
			id = id[:6] + " " + id[6:14] + " " + id[14:]
		}
		return pickOf(r, "身份证号%s，挂号要用吗？", "证件号：%s", "病历登记的身份证是%s。"), id
	}},
	{"bankcard", true, func(r *rand.Rand) (string, string) {
		n := randomCard(r)
		v := n
		if r.IntN(2) == 0 {
			sep := pickOf(r, " ", "-")
			var groups []string
			for i := 0; i < len(n); i += 4 {
				groups = append(groups, n[i:min(i+4, len(n))])
			}
			v = strings.Join(groups, sep)
		}
		return pickOf(r, "诊费转到卡号%s吗？", "银行卡：%s", "医保绑定的卡%s扣费失败了。"), v
	}},
	{"email", true, func(r *rand.Rand) (string, string) {
		v := fmt.Sprintf("%s%d@%s", pickOf(r, "zhangwei", "li.hua", "wang_fang", "chen-jing"), r.IntN(10000),
			pickOf(r, "qq.com", "163.com", "hospital.org.cn", "example.com"))
		return pickOf(r, "报告发到邮箱%s。", "我的邮箱是 %s ，谢谢", "Email: %s"), v
	}},
	{"url", true, func(r *rand.Rand) (string, string) {
		v := fmt.Sprintf("%s%s/%s/%d.html", pickOf(r, "https://", "http://", "www."), pickOf(r, "bbs.yiliao-demo.com", "m.wenzhen-demo.net"),
			pickOf(r, "thread", "ask"), r.IntN(1_000_000))
		return pickOf(r, "我在%s上看到的说法", "帖子在这里%s。"), v
	}},
	{"qq", true, func(r *rand.Rand) (string, string) {
		v := fmt.Sprintf("%d", 10000+r.IntN(2_000_000_000))
		return pickOf(r, "QQ号%s", "加我QQ：%s详细聊。", "qq是%s", "扣扣 %s", "QQ号码: %s。"), v
	}},
	{"wechat", true, func(r *rand.Rand) (string, string) {
		var v string
		switch r.IntN(3) {
		case 0:
			v = fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
		case 1:
			v = fmt.Sprintf("%d", 10000+r.IntN(2_000_000_000))
			return pickOf(r, "微信号：%s", "微信号%s。"), v
		default:
			v = string(rune('a'+r.IntN(26))) + pickOf(r, "yi_", "sheng", "Kang-", "jian") + randomDigits(r, 4+r.IntN(4))
		}
		return pickOf(r, "微信：%s", "加我微信%s。", "vx：%s", "VX %s", "wechat: %s", "微信号是%s"), v
	}},
	{"ip", true, func(r *rand.Rand) (string, string) {
		v := fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		for !validIPv4(v) {
			v = fmt.Sprintf("%d.%d.%d.%d", 10+r.IntN(213), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		}
		return pickOf(r, "登录IP：%s", "服务器地址%s。", "来自 %s 的访问", "ping %s", "%s:8080", "ip地址是%s，", "网段%s/24"), v
	}},
	{"passport", true, func(r *rand.Rand) (string, string) {
		v := pickOf(r, "E"+randomDigits(r, 8), "E"+string(rune('A'+r.IntN(26)))+randomDigits(r, 7), "G"+randomDigits(r, 8), "P"+randomDigits(r, 7))
		return pickOf(r, "护照号%s", "护照号码：%s。", "Passport No. %s", "我的护照是%s"), v
	}},
	// Look-alikes that must stay.
	{"dose", false, func(r *rand.Rand) (string, string) {
		return "医嘱%s。", pickOf(r, "500mg", "每次10mg，一日3次", "0.5g bid", "静滴250ml", "胰岛素12U", "20mg/kg")
	}},
	{"date", false, func(r *rand.Rand) (string, string) {
		y, m, d := 2015+r.IntN(10), 1+r.IntN(12), 1+r.IntN(28)
		return "我是%s开始不舒服的", pickOf(r, fmt.Sprintf("%d-%02d-%02d", y, m, d), fmt.Sprintf("%d%02d%02d", y, m, d),
			fmt.Sprintf("%d.%02d.%02d", y, m, d), fmt.Sprintf("%d年%d月%d日", y, m, d), fmt.Sprintf("%d/%d/%d %02d:%02d", y, m, d, r.IntN(24), r.IntN(60)))
	}},
	{"lab", false, func(r *rand.Rand) (string, string) {
		return "化验：%s。", pickOf(r, "白细胞12.5×10^9/L", "血小板 350x10^9/L", "血压140/90mmHg", "空腹血糖7.8mmol/L",
			fmt.Sprintf("HBV-DNA %d IU/ml", 10_000_000_000+r.IntN(1_000_000_000)), fmt.Sprintf("HBV DNA 1%d%09d拷贝/ml", 3+r.IntN(7), r.IntN(1_000_000_000)),
			fmt.Sprintf("尿蛋白定量%d.%02d g/24h", r.IntN(5), r.IntN(100)),
			// A size whose "×" was lost, as in a real Huatuo answer.
			fmt.Sprintf("右附件囊肿%d.%d%d.%d%d.%d", 1+r.IntN(9), r.IntN(10), 1+r.IntN(9), r.IntN(10), 1+r.IntN(9), r.IntN(10)))
	}},
	{"record", false, func(r *rand.Rand) (string, string) {
		return "%s", pickOf(r, "住院号 "+randomDigits(r, 8), "门诊号："+randomDigits(r, 10), "病案号"+randomDigits(r, 7), "编号"+fmt.Sprintf("%d", 20000000+r.IntN(70000000)),
			"检查单号2023"+randomDigits(r, 8), "批准文号国药准字H"+randomDigits(r, 8), "批号E"+randomDigits(r, 8))
	}},
	{"bad-id", false, func(r *rand.Rand) (string, string) {
		id := randomResidentID(r)
		return "身份证号%s，", id[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", id[17])+1+r.IntN(10))%11])
	}},
	{"bad-card", false, func(r *rand.Rand) (string, string) {
		n := randomCard(r)
		return "卡号%s", n[:len(n)-1] + string(rune('0'+(int(n[len(n)-1]-'0')+1+r.IntN(9))%10))
	}},
	{"version", false, func(r *rand.Rand) (string, string) {
		return "%s", pickOf(r, fmt.Sprintf("见指南%d.%d.%d.%d节", 1+r.IntN(9), 1+r.IntN(9), 1+r.IntN(9), 1+r.IntN(9)),
			fmt.Sprintf("版本号：%d.%d.%d.%d", 1+r.IntN(20), r.IntN(20), r.IntN(20), r.IntN(300)),
			fmt.Sprintf("version %d.%d.%d.%d", 1+r.IntN(20), r.IntN(20), r.IntN(20), r.IntN(300)),
			fmt.Sprintf("v%d.%d.%d.%d", 1+r.IntN(20), r.IntN(20), r.IntN(20), r.IntN(300)),
			fmt.Sprintf("%d.%d.%d.%d.%d", 10+r.IntN(200), r.IntN(200), r.IntN(200), r.IntN(200), r.IntN(200)))
	}},
	{"bad-ip", false, func(r *rand.Rand) (string, string) {
		return "地址%s", pickOf(r, fmt.Sprintf("%d.%d.%d.%d", 256+r.IntN(700), r.IntN(256), r.IntN(256), r.IntN(256)),
			fmt.Sprintf("192.168.%d.%d", r.IntN(256), 256+r.IntN(700)), fmt.Sprintf("0%d.%d.%d.%d", 1+r.IntN(9), 10+r.IntN(200), r.IntN(256), r.IntN(256)))
	}},
	{"unmarked", false, func(r *rand.Rand) (string, string) {
		return "%s", pickOf(r, "编号"+fmt.Sprintf("%d", 20000000+r.IntN(70000000)), "共"+fmt.Sprintf("%d", 10000+r.IntN(90000))+"例",
			"QQ空间里看到的", "我用微信和QQ联系医生", "微信支付了"+fmt.Sprintf("%d", 100+r.IntN(900))+"元", "流水号"+randomDigits(r, 12),
			"1"+fmt.Sprintf("%d", 3+r.IntN(7))+randomDigits(r, 10), "wxyz"+randomDigits(r, 6))
	}},
	{"code", false, func(r *rand.Rand) (string, string) {
		return "诊断编码%s。", pickOf(r, "E11.9", "I10", "J45.901", "K35.8", "ICD-10 C34.1", "M10.0")
	}},
}

// sentenceEnds lists the byte offsets just after each "。" or "！" of c
// but the last.
func sentenceEnds(c string) []int {
	var out []int
	for i := 0; i < len(c); {
		j := strings.IndexAny(c[i:], "。！")
		if j < 0 {
			break
		}
		i += j + len("。")
		if i < len(c) {
			out = append(out, i)
		}
	}
	return out
}

func pickOf(r *rand.Rand, options ...string) string { return options[r.IntN(len(options))] }

func randomDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// randomResidentID makes an 18-character resident ID with a valid date and
// check character.
func randomResidentID(r *rand.Rand) string {
	for {
		first := pickOf(r, "110101", "310104", "440106", "330102", "510107", "620102", "650102") +
			fmt.Sprintf("%04d%02d%02d", 1930+r.IntN(90), 1+r.IntN(12), 1+r.IntN(28)) + randomDigits(r, 3)
		for _, c := range "0123456789X" {
			if id := first + string(c); validResidentID(id) {
				return id
			}
		}
	}
}

// randomCard makes a Luhn-valid card number of 16 to 19 digits with an
// issuer's prefix, not laid out as a resident ID (see findBankCards).
func randomCard(r *rand.Rand) string {
	for {
		n := 16 + r.IntN(4)
		body := pickOf(r, "622202", "621700", "622848", "625965", "436742", "524094", "955880", "356833", "2221") + randomDigits(r, 0)
		body += randomDigits(r, n-1-len(body))
		for c := '0'; c <= '9'; c++ {
			if card := body + string(c); validBankCard(card) && !(n == 18 && residentIDShape(card)) {
				return card
			}
		}
	}
}

// CheckPIITruth masks every row and reports, per type, recall (masked rows
// that came out exactly as wanted) and false masks (look-alike rows that
// changed), and the rows lost (whose text around the value did not come
// out whole). It fails the test below 99% recall on any type, on any false
// mask and on any lost row.
func CheckPIITruth(t *testing.T, rows []PIITruthRow) {
	t.Helper()
	type tally struct{ n, ok, changed int }
	byType := map[string]*tally{}
	lost := 0
	for _, row := range rows {
		in := row.Before + row.Value + row.After
		out := piiMasker{}.Normalise("text", in, Tally{})
		tl := byType[row.Type]
		if tl == nil {
			tl = &tally{}
			byType[row.Type] = tl
		}
		tl.n++
		if !strings.HasPrefix(out, row.Before) || !strings.HasSuffix(out, row.After) || len(out) < len(row.Before)+len(row.After) {
			lost++
			t.Errorf("row lost: %q → %q", in, out)
			continue
		}
		got := out[len(row.Before) : len(out)-len(row.After)]
		switch {
		case row.Mask && got == piiPlaceholders[row.Type]:
			tl.ok++
		case row.Mask:
			t.Errorf("%s %q not masked as %s: %q → %q", row.Type, row.Value, piiPlaceholders[row.Type], in, out)
		case got != row.Value:
			tl.changed++
			t.Errorf("%s %q falsely masked: %q → %q", row.Type, row.Value, in, out)
		}
	}
	types := make([]string, 0, len(byType))
	for k := range byType {
		types = append(types, k)
	}
	sort.Slice(types, func(i, j int) bool {
		a, b := piiPlaceholders[types[i]] != "", piiPlaceholders[types[j]] != ""
		return a && !b || a == b && types[i] < types[j]
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows, %d lost\n  %-10s %5s  %-8s %s\n", len(rows), lost, "type", "rows", "recall", "false masks")
	for _, k := range types {
		tl := byType[k]
		if piiPlaceholders[k] != "" {
			recall := float64(tl.ok) / float64(tl.n)
			fmt.Fprintf(&b, "  %-10s %5d  %-8.3f %s\n", k, tl.n, recall, "-")
			if recall < 0.99 {
				t.Errorf("%s: recall %.3f < 0.99", k, recall)
			}
		} else {
			fmt.Fprintf(&b, "  %-10s %5d  %-8s %d\n", k, tl.n, "-", tl.changed)
		}
	}
	for k := range piiPlaceholders {
		if byType[k] == nil {
			t.Errorf("no rows of type %s", k)
		}
	}
	t.Log(b.String())
}

// TestPIITruthBuiltIn is the truth table on carrier sentences of its own,
// so it runs without the public samples (TestPIITruthOnSharedCorpus, in
// sharedcorpus_test.go, plants the same kinds of values in real text).
func TestPIITruthBuiltIn(t *testing.T) {
	carriers := []string{
		"医生您好，我最近总是头痛，晚上睡不好。", "孩子发烧三天了，体温最高39度，吃了退烧药还是反复。",
		"血压150/95mmHg，平时吃硝苯地平缓释片，每天一次。", "建议低盐低脂饮食，规律服药，定期复查肝功能。",
		"胃镜检查提示慢性浅表性胃炎，幽门螺杆菌阳性。", "产后42天复查，恶露已经干净了！请问可以同房吗？",
		"Hello doctor, I have had a cough for 2 weeks.", "空腹血糖7.8mmol/L，糖化血红蛋白6.9%。",
	}
	CheckPIITruth(t, PIITruthRows(carriers, 8, 1))
}
