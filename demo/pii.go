package demo

import (
	"fmt"
	"strings"
)

// piiSample is one piece of made-up personal data and a sentence a patient
// might write it in.
type piiSample struct {
	Type   PIIType
	Value  string
	Phrase string // the sentence holding Value, ready to splice into a question
}

// newPII invents a value of type t. Every value is random, so none is a real
// person's; the checksummed ones (ID, bank card) pass their checks so a
// validating masker must catch them.
func newPII(r *rng, t PIIType) piiSample {
	var v, phrase string
	switch t {
	case PIIMobile:
		v = fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
		phrase = pick(r, []string{"我的手机号是%s，方便的话请回电。", "麻烦加急回复，电话%s。", "有问题可以打我电话%s联系我。"})
	case PIILandline:
		area := pick(r, []string{"010", "021", "020", "0571", "025", "028"})
		digits := 8
		if len(area) == 4 {
			digits = 7 + r.IntN(2)
		}
		v = area + "-" + fmt.Sprintf("%d", 2+r.IntN(7)) + randDigits(r, digits-1)
		phrase = pick(r, []string{"家里座机%s，白天有人接。", "单位电话是%s。"})
	case PIIIDCard:
		v = residentID(r)
		phrase = pick(r, []string{"我的身份证号%s，挂号需要吗？", "病历上登记的身份证是%s。"})
	case PIIBankCard:
		v = bankCard(r)
		phrase = pick(r, []string{"诊费可以转到卡号%s吗？", "医保绑定的银行卡%s扣费失败了。"})
	case PIIEmail:
		v = fmt.Sprintf("%s%d@%s", pick(r, []string{"zhangwei", "liuyang", "wangfang", "chenjing", "lihua"}), 10+r.IntN(9000),
			pick(r, []string{"qq.com", "163.com", "126.com", "example.cn"}))
		phrase = pick(r, []string{"检查报告可以发到我邮箱%s。", "我的邮箱是%s，麻烦把资料发给我。"})
	case PIIURL:
		v = fmt.Sprintf("https://%s/%s/%d.html", pick(r, []string{"www.jiankang-demo.cn", "bbs.yiliao-demo.com", "m.wenzhen-demo.net"}),
			pick(r, []string{"thread", "post", "ask"}), 10000+r.IntN(900000))
		phrase = pick(r, []string{"我在%s上看到的说法，靠谱吗？", "之前的帖子在这里%s。"})
	case PIIQQ:
		v = fmt.Sprintf("%d", 10000+r.IntN(2_000_000_000))
		phrase = pick(r, []string{"可以加我QQ%s详细聊。", "QQ：%s，请医生联系我。"})
	case PIIWeChat:
		v = string(rune('a'+r.IntN(26))) + pick(r, []string{"yi", "sheng", "kang", "jian", "mei"}) + randDigits(r, 4+r.IntN(4))
		phrase = pick(r, []string{"方便的话加我微信%s。", "我微信：%s，想私下咨询。"})
	}
	return piiSample{Type: t, Value: v, Phrase: fmt.Sprintf(phrase, v)}
}

// piiTypes lists the types planted, in a fixed order.
var piiTypes = []PIIType{PIIMobile, PIILandline, PIIIDCard, PIIBankCard, PIIEmail, PIIURL, PIIQQ, PIIWeChat}

func randDigits(r *rng, n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

// idWeights and idCheck are the GB 11643-1999 checksum of a resident ID.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheck = "10X98765432"

// idChecksum returns the check character of the first 17 digits.
func idChecksum(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheck[sum%11]
}

// residentID invents an 18-character resident ID with a valid checksum.
func residentID(r *rng) string {
	area := pick(r, []string{"110101", "310104", "440106", "330102", "510107", "420102"})
	birth := fmt.Sprintf("%04d%02d%02d", 1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28))
	first := area + birth + randDigits(r, 3)
	return first + string(idChecksum(first))
}

// luhnDigit returns the check digit that makes digits+check pass Luhn.
func luhnDigit(digits string) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 { // doubled: these sit at odd positions once the check digit is appended
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// luhnValid reports whether a digit string passes the Luhn check.
func luhnValid(s string) bool {
	return len(s) > 1 && luhnDigit(s[:len(s)-1]) == s[len(s)-1]
}

// bankCard invents a 16- or 19-digit card number that passes Luhn.
func bankCard(r *rng) string {
	prefix := pick(r, []string{"622202", "621700", "622848", "622588", "621483"})
	n := pick(r, []int{16, 19})
	body := prefix + randDigits(r, n-1-len(prefix))
	return body + string(luhnDigit(body))
}

// decoy is a PII-looking string that must survive masking.
type decoy struct {
	Value, Phrase, Note string
}

// newDecoy invents one: an ID number with a wrong checksum, a card number
// failing Luhn, a dose, a date, a lab value or an ICD code.
func newDecoy(r *rng) decoy {
	switch r.IntN(6) {
	case 0:
		id := residentID(r)
		bad := ""
		off := r.IntN(10)
		for k := range 10 { // a wrong check digit that also fails Luhn
			c := byte('0' + (k+off)%10)
			if c != id[17] && !luhnValid(id[:17]+string(c)) {
				bad = id[:17] + string(c)
				break
			}
		}
		if bad == "" { // cannot happen: Luhn rejects 9 of the 10 digits
			bad = id[:17] + "A"
		}
		return decoy{bad, fmt.Sprintf("化验单上的编号是%s。", bad), "18 digits with a wrong ID checksum"}
	case 1:
		c := bankCard(r)
		last := (c[len(c)-1]-'0'+1+byte(r.IntN(8)))%10 + '0'
		bad := c[:len(c)-1] + string(last)
		return decoy{bad, fmt.Sprintf("单据流水号%s。", bad), "card-like number failing Luhn"}
	case 2:
		v := pick(r, []string{"每次10mg，一日3次", "每日2次，每次0.5g", "一次1片，每天3次", "每晚20mg"})
		return decoy{v, "医生开的药说明书写着" + v + "。", "a dose"}
	case 3:
		v := fmt.Sprintf("%d-%02d-%02d", 2018+r.IntN(7), 1+r.IntN(12), 1+r.IntN(28))
		return decoy{v, "我是" + v + "开始不舒服的。", "a date"}
	case 4:
		v := pick(r, []string{"空腹血糖7.8mmol/L", "血压150/95mmHg", "血红蛋白98g/L", "尿酸520μmol/L"})
		return decoy{v, "上次检查" + v + "。", "a lab value"}
	default:
		v := pick(r, []string{"E11.9", "I10", "J45.9", "K29.5", "M10.0"})
		return decoy{v, "诊断证明上写的编码是" + v + "。", "an ICD-10 code"}
	}
}
