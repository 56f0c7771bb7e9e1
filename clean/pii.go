package clean

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// piiMasker replaces personal data with typed placeholders, so training data
// keeps the shape of a sentence ("请拨打[PHONE]") without the person:
//
//	[EMAIL]    e-mail addresses
//	[URL]      http(s):// and www. addresses
//	[PASSPORT] passport numbers, only where marked ("护照号：E12345678")
//	[QQ]       QQ numbers, only where marked ("QQ：12345678", "QQ号 …")
//	[WECHAT]   WeChat ids, only where marked ("微信：abc_123", "vx：…")
//	[ID]       18-digit resident identity numbers (or 6-8-4 groups) whose
//	           ISO 7064 MOD 11-2 check digit and birth date are valid
//	[BANKCARD] card numbers of 16 to 19 digits, whole or in groups of four,
//	           with a card issuer's first digits that pass the Luhn check
//	[PHONE]    mainland mobile numbers (1[3-9]x, 11 digits, optional +86 and
//	           separators); landlines with an area code set apart
//	           ("010-12345678", "(0571)8888-1234 转 123", "0755 8888 1234");
//	           and 7–8 digit local numbers only where marked ("电话：8888-1234")
//	[IP]       IPv4 addresses (four octets of 0–255, not all one digit)
//	           where an address is meant: marked ("IP：", "地址"), with a
//	           port or prefix length, or set apart from Chinese text
//
// A number glued to other digits, letters or a decimal point is never
// masked, nor one followed by a unit ("13800000000拷贝/ml"), and numbers
// that fail validation stay as they are: doses, dates, lab values, ICD
// codes, record numbers ("住院号 12345678"), version and section numbers
// ("1.2.3.4") are common in medical text and must survive. The truth tables
// in pii_test.go hold the negatives. Detectors run in the order listed in
// piiDetectors, so the digits of an address are not read as a phone number
// and a marked WeChat id that is a phone number is [WECHAT].
// Counters: "pii.email", "pii.url", "pii.passport", "pii.qq", "pii.wechat",
// "pii.id", "pii.bankcard", "pii.phone", "pii.ip".
type piiMasker struct{}

func init() {
	register("pii", allKinds, func(func(any) error) (any, error) { return piiMasker{}, nil })
}

// piiDetector is one kind of personal data: where it may be (a cheap test
// on the value and its count of ASCII digits, so the detector's search runs
// only on the few values that might hold one: Go's regexp scans at roughly
// 20–50 MB/s, these tests at memory speed) and where it is.
type piiDetector struct {
	name        string // counter suffix
	placeholder string
	may         func(s string, digits int) bool
	find        func(s string) []span
}

// span is a byte range [from, to) of a value.
type span struct{ from, to int }

// piiDetectors run in this order, each on the output of the one before.
var piiDetectors = []piiDetector{
	{"email", "[EMAIL]", hasAt, findEmails},
	{"url", "[URL]", hasURL, findURLs},
	{"passport", "[PASSPORT]", hasPassportMark, findPassports},
	{"qq", "[QQ]", hasQQ, findQQ},
	{"wechat", "[WECHAT]", hasWeChat, findWeChat},
	{"id", "[ID]", atLeastDigits(17), findResidentIDs},
	{"bankcard", "[BANKCARD]", atLeastDigits(16), findBankCards},
	{"phone", "[PHONE]", atLeastDigits(11), findMobiles},
	{"phone", "[PHONE]", atLeastDigits(7), findLandlines},
	{"ip", "[IP]", hasDottedQuad, findIPv4},
}

// piiMarks are the runes a detector needs one of, besides digits: ASCII
// letters and '@'.
var piiMarks = NewRuneClass(func(r rune) bool { return r == '@' || r < 0x80 && unicode.IsLetter(r) })

// CanSkip implements Skipper. Every detector needs an ASCII letter, an '@'
// or at least five ASCII digits (an email its '@'; a URL, a passport
// number, a WeChat id or its marker ASCII letters; a QQ number five digits;
// an IPv4 address that is not all one-digit octets five; the others seven
// or more), so a value whose scan (maybePII) has none of them holds nothing
// to mask: most Chinese text, which then skips the detectors' prefilters
// (4% of clean's CPU on the 1GB demo). piiMayMatch in pii_test.go is that
// test on its own.
func (piiMasker) CanSkip(p *Profile) bool { return p.Digits < 5 && p.Classes&piiMarks == 0 }

// Normalise implements Normaliser.
func (piiMasker) Normalise(_, s string, t Tally) string {
	digits := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			digits++
		}
	}
	for i := range piiDetectors {
		d := &piiDetectors[i]
		if !d.may(s, digits) {
			continue
		}
		spans := d.find(s)
		if len(spans) == 0 {
			continue
		}
		var b strings.Builder
		last := 0
		for _, sp := range spans {
			b.WriteString(s[last:sp.from])
			b.WriteString(d.placeholder)
			last = sp.to
		}
		b.WriteString(s[last:])
		s = b.String()
		t.Add("pii."+d.name, len(spans))
		digits = 0
		for i := 0; i < len(s); i++ {
			if c := s[i]; c >= '0' && c <= '9' {
				digits++
			}
		}
	}
	return s
}

// ---- e-mail and URL

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}`)
	urlRe   = regexp.MustCompile(`(?i)(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%()]+`)
)

func hasAt(s string, _ int) bool { return strings.IndexByte(s, '@') >= 0 }

func hasURL(s string, _ int) bool {
	return strings.Contains(s, "://") || strings.Contains(s, "www.") || strings.Contains(s, "WWW.")
}

// findEmails finds e-mail addresses: a local part, '@' and a dotted domain
// ending in a 2–24 letter top-level domain.
func findEmails(s string) []span { return spansOf(emailRe.FindAllStringIndex(s, -1)) }

// findURLs finds web addresses that start with http://, https:// or www.,
// up to the first character a URL cannot hold (Chinese text, spaces,
// quotes), less the punctuation that ends the sentence or the code around
// it: trailing '.', ',', ';', ':', '!', '?' and a ')' or ']' that closes
// nothing opened inside the address ("(见https://a.b/c)" keeps its ")").
func findURLs(s string) []span {
	out := spansOf(urlRe.FindAllStringIndex(s, -1))
	for i := range out {
		u := s[out[i].from:out[i].to]
		for len(u) > 0 {
			c := u[len(u)-1]
			if strings.IndexByte(".,;:!?", c) >= 0 ||
				c == ')' && strings.Count(u, "(") < strings.Count(u, ")") ||
				c == ']' && strings.Count(u, "[") < strings.Count(u, "]") {
				u = u[:len(u)-1]
				continue
			}
			break
		}
		out[i].to = out[i].from + len(u)
	}
	return out
}

func spansOf(locs [][]int) []span {
	out := make([]span, len(locs))
	for i, l := range locs {
		out[i] = span{l[0], l[1]}
	}
	return out
}

// ---- marked identifiers: passport, QQ, WeChat

// A mark's separator: a colon, "是" or "为", with spaces.
const markSep = `\s*(?:[:：]|是|为)?\s*`

var (
	passportRe = regexp.MustCompile(`(?:护照|(?i:passport))(?:号码|号|编号|(?i:\s*(?:no\.?|number|#)))?` + markSep +
		`([A-Za-z]{1,2}[0-9]{7,8}|[0-9]{9})`)
	qqRe     = regexp.MustCompile(`(?i:QQ|扣扣)群?(?:号码|号)?` + markSep + `([1-9][0-9]{4,10})`)
	wechatRe = regexp.MustCompile(`(微信号?` + markSep + `|(?i:weixin|wechat|vx|wx)号?\s*(?:[:：]|是|为|\s)\s*)` +
		`([A-Za-z][A-Za-z0-9_\-]{5,19}|[1-9][0-9]{4,10})`)
)

func hasPassportMark(s string, _ int) bool {
	return strings.Contains(s, "护照") || hasFoldASCII(s, "passport")
}

func hasQQ(s string, d int) bool {
	return d >= 5 && (strings.Contains(s, "扣扣") || hasFoldASCII(s, "qq"))
}

func hasWeChat(s string, _ int) bool {
	return strings.Contains(s, "微信") || hasWeChatASCII(s)
}

// findPassports finds passport numbers after a passport mark ("护照号：",
// "护照号码", "Passport No."): one or two letters and 7–8 digits (China's
// E12345678, EA1234567, G12345678, P1234567) or 9 digits (many other
// countries'). Without the mark such a code is as likely a batch or
// model number, so it stays.
func findPassports(s string) []span { return markedMatches(passportRe, s, 1) }

// findQQ finds QQ numbers (5–11 digits, no leading 0) after a QQ mark
// ("QQ：", "QQ号", "qq是", "扣扣", "QQ群"): unmarked, they are any number.
func findQQ(s string) []span { return markedMatches(qqRe, s, 1) }

// findWeChat finds WeChat ids after a WeChat mark ("微信：", "微信号",
// "vx：", "wechat "): a letter and 5–19 letters, digits, '_' or '-' (the
// rule WeChat sets for ids); or a number (the phone or QQ number an
// account is found by), which needs "号", a colon, "是" or "为" after the
// mark, except for a mobile number ("加我微信13812345678").
func findWeChat(s string) []span {
	var out []span
	for _, m := range wechatRe.FindAllStringSubmatchIndex(s, -1) {
		mark, id := s[m[2]:m[3]], s[m[4]:m[5]]
		if m[0] > 0 && isASCIIAlnum(s[m[0]-1]) || m[5] < len(s) && isASCIIAlnum(s[m[5]]) {
			continue // "dvx…", or an id running on
		}
		if id[0] >= '0' && id[0] <= '9' && !validMobile(id) && !strings.ContainsAny(mark, "号:：是为") {
			continue
		}
		out = append(out, span{m[4], m[5]})
	}
	return out
}

// markedMatches is re's submatch group of every match that does not start
// right after an ASCII letter or digit ("hotel 1234567" is no "tel") and
// whose group does not run on into one.
func markedMatches(re *regexp.Regexp, s string, group int) []span {
	var out []span
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		from, to := m[2*group], m[2*group+1]
		if m[0] > 0 && isASCIIAlnum(s[m[0]-1]) || to < len(s) && isASCIIAlnum(s[to]) {
			continue
		}
		out = append(out, span{from, to})
	}
	return out
}

// hasWeChatASCII reports whether s holds "wx", "vx", "weixin" or "wechat"
// in any letter case, in one pass over the bytes instead of lowercasing
// (copying) every value.
func hasWeChatASCII(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		switch s[i] | 0x20 {
		case 'v':
			if s[i+1]|0x20 == 'x' {
				return true
			}
		case 'w':
			if n := s[i+1] | 0x20; n == 'x' || n == 'e' && (hasPrefixFoldASCII(s[i:], "weixin") || hasPrefixFoldASCII(s[i:], "wechat")) {
				return true
			}
		}
	}
	return false
}

// hasFoldASCII reports whether s holds word (lower-case ASCII letters) in
// any letter case.
func hasFoldASCII(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		if s[i]|0x20 == word[0] && hasPrefixFoldASCII(s[i:], word) {
			return true
		}
	}
	return false
}

// hasPrefixFoldASCII reports whether s starts with prefix (lower-case ASCII
// letters) in any letter case.
func hasPrefixFoldASCII(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

// ---- numbers: identity card, bank card, phones

func atLeastDigits(n int) func(string, int) bool {
	return func(_ string, d int) bool { return d >= n }
}

var (
	residentIDRe = regexp.MustCompile(`[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{5}[ \-][12][0-9]{7}[ \-][0-9]{3}[0-9Xx]`)
	bankCardRe   = regexp.MustCompile(`[1-9][0-9]{15,18}|[1-9][0-9]{3}(?:[ \-][0-9]{4}){2,3}[ \-][0-9]{1,4}`)
	mobileRe     = regexp.MustCompile(`(?:(?:\+|00)?86[ \-]?|[(（]\+?86[)）][ ]?)?1[3-9][0-9](?:[ \-]?[0-9]{4}){2}`)
	landlineRe   = regexp.MustCompile(`(?:\(0[1-9][0-9]{1,2}\)|（0[1-9][0-9]{1,2}）|0[1-9][0-9]{1,2}[ \-])[ ]?[1-9][0-9]{2,3}[ \-]?[0-9]{4}(?:-[0-9]{1,5})?`)
	// A marked local number: 7 or 8 digits (4-4 or 3-4 groups), or an
	// area code run into it, after "电话", "座机", "固话", "传真", "tel",
	// "phone" or "联系方式".
	markedLandlineRe = regexp.MustCompile(`(?:电话|座机|固话|传真|联系方式|(?i:tel|phone))(?:号码|号)?` + markSep +
		`((?:0(?:10|2[0-9]|[3-9][0-9]{2}))?[2-9][0-9]{2,3}[ \-]?[0-9]{4}(?:-[0-9]{1,5})?)`)
	// An extension after a landline: "转 123", "分机123", "ext. 12".
	extensionRe = regexp.MustCompile(`^\s*(?:转|分机|(?i:ext)\.?)\s*[0-9]{1,5}`)
)

// numberRegexps are the regexps numberMatches runs, for its test.
var numberRegexps = []*regexp.Regexp{residentIDRe, bankCardRe, mobileRe, landlineRe}

// findResidentIDs finds mainland resident identity numbers: 18 characters,
// whole or grouped 6-8-4, with a valid birth date and check character.
func findResidentIDs(s string) []span {
	return validNumbers(s, residentIDRe, func(m string) bool { return validResidentID(digitsOf(m)) })
}

// findBankCards finds payment card numbers: 16 to 19 digits, whole or in
// groups of four (the last group 1–4 digits), starting as an issuer's
// cards do (ISO/IEC 7812: 3 for JCB and American Express, 4 Visa, 5 and
// 2221–2720 Mastercard, 6 UnionPay and Discover, 9 China's domestic
// 9558…), passing the Luhn check. An 18-digit number laid out as a
// resident ID (a birth date at digits 7–14) is an ID with a wrong check
// digit, not a card, and stays.
func findBankCards(s string) []span {
	return validNumbers(s, bankCardRe, func(m string) bool {
		d := digitsOf(m)
		return validBankCard(d) && cardIssuer(d) && !(len(d) == 18 && residentIDShape(d))
	})
}

// findMobiles finds mainland mobile numbers: 11 digits from 13x to 19x,
// whole or grouped 3-4-4, with an optional +86, 0086, 86 or (+86) first.
func findMobiles(s string) []span {
	return validNumbers(s, mobileRe, func(m string) bool { return validMobile(digitsOf(m)) })
}

// findLandlines finds landline numbers: an area code set apart by a
// hyphen, a space or brackets ("010-12345678", "(0571)8888-1234",
// "0755 8888 1234"), or, after a phone mark, a 7–8 digit local number or
// one with its area code run in ("电话：8888-1234", "座机057187654321");
// with an extension ("-123", "转 123") if one follows. Area codes are
// 010 and 02x, or four digits from 03xx to 09xx; a local number starts
// with 2–9 (with an area code set apart, 1 too, as in the made-up
// "010-12345678" documents use). Unmarked 7–8 digit
// numbers are record numbers, counts and dates as often as phones, and stay.
func findLandlines(s string) []span {
	out := validNumbers(s, landlineRe, func(m string) bool { return validAreaCode(m) })
	if strings.Contains(s, "电话") || strings.Contains(s, "座机") || strings.Contains(s, "固话") || strings.Contains(s, "传真") ||
		strings.Contains(s, "联系方式") || hasFoldASCII(s, "tel") || hasFoldASCII(s, "phone") {
		for _, sp := range markedMatches(markedLandlineRe, s, 1) {
			if numberApart(s, sp.from, sp.to) {
				out = append(out, sp)
			}
		}
		out = sortSpans(out)
	}
	for i := range out {
		if loc := extensionRe.FindStringIndex(s[out[i].to:]); loc != nil {
			end := out[i].to + loc[1]
			if end == len(s) || !isASCIIAlnum(s[end]) {
				out[i].to = end
			}
		}
	}
	return out
}

// validNumbers is numberMatches of re in s, less those glued to a letter,
// a digit or a decimal point, followed by a unit, or that valid rejects.
func validNumbers(s string, re *regexp.Regexp, valid func(string) bool) []span {
	var out []span
	for _, loc := range numberMatches(re, s) {
		from, to := loc[0], loc[1]
		if numberApart(s, from, to) && valid(s[from:to]) {
			out = append(out, span{from, to})
		}
	}
	return out
}

// numberApart reports whether s[from:to] stands apart as a number: no ASCII
// letter or digit touches it, nor a decimal point with a digit beyond
// ("0.13812345678", "13812345678.5"), and no unit follows it.
func numberApart(s string, from, to int) bool {
	if from > 0 && isASCIIAlnum(s[from-1]) || to < len(s) && isASCIIAlnum(s[to]) {
		return false
	}
	if from > 1 && s[from-1] == '.' && isDigit(s[from-2]) || to+1 < len(s) && s[to] == '.' && isDigit(s[to+1]) {
		return false
	}
	return !followedByUnit(s[to:])
}

// measureUnits are what follows a count or a concentration, not a phone
// or card number ("13800000000拷贝/ml", "15800000000 IU/mL").
var measureUnits = []string{"拷贝", "copies", "IU", "U/", "个", "次", "元", "mg", "ml", "mL", "ng", "pg", "μg", "μmol", "umol",
	"mmol", "cells", "万", "亿", "%", "×", "/ml", "/mL", "/L", "/μl", "/ul", "/uL"}

// followedByUnit reports whether rest, past spaces, starts with a unit.
func followedByUnit(rest string) bool {
	rest = strings.TrimLeft(rest, " ")
	for _, u := range measureUnits {
		if strings.HasPrefix(rest, u) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// sortSpans sorts spans by start and drops any that overlaps the one
// before it.
func sortSpans(spans []span) []span {
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j].from < spans[j-1].from; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	out := spans[:0]
	for _, sp := range spans {
		if len(out) > 0 && sp.from < out[len(out)-1].to {
			continue
		}
		out = append(out, sp)
	}
	return out
}

// numberMatches is re.FindAllStringSubmatchIndex(s, -1) for the number
// regexps (ID, bank card, phone), whose matches are made only of digits,
// X/x, spaces, '-', '+' and ASCII or full-width parentheses, and hold at
// least 10 digits. Such a match lies inside one maximal run of those
// characters, and a leftmost-first search never crosses a run, so running
// the regexp on each run of 10 digits or more finds the same matches as on
// the whole value — while skipping the prose around them, where Go's
// regexp spent a fifth of clean's CPU.
func numberMatches(re *regexp.Regexp, s string) [][]int {
	var locs [][]int
	for i := 0; i < len(s); {
		if numberByte[s[i]] == 0 && !fullWidthParen(s[i:]) {
			i++
			continue
		}
		start, digits := i, 0
		for i < len(s) {
			switch numberByte[s[i]] {
			case 2:
				digits++
				i++
				continue
			case 1:
				i++
				continue
			}
			if !fullWidthParen(s[i:]) {
				break
			}
			i += len("（")
		}
		if digits < 10 {
			continue
		}
		for _, loc := range re.FindAllStringSubmatchIndex(s[start:i], -1) {
			for j := range loc {
				if loc[j] >= 0 {
					loc[j] += start
				}
			}
			locs = append(locs, loc)
		}
	}
	return locs
}

// numberByte classes the ASCII bytes a number detector's match can hold:
// 2 for a digit, 1 for X, x, space, '-', '+', '(' and ')', 0 otherwise.
var numberByte = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 2
	}
	for _, c := range "Xx -+()" {
		t[c] = 1
	}
	return t
}()

// fullWidthParen reports whether s starts with "（" or "）".
func fullWidthParen(s string) bool {
	return len(s) >= 3 && s[0] == 0xef && (strings.HasPrefix(s, "（") || strings.HasPrefix(s, "）"))
}

// digitsOf keeps the digits (and a final X) of a matched number.
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' || c == 'X' || c == 'x' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// validResidentID checks an 18-character mainland resident identity number:
// a plausible birth date in characters 7–14 and the ISO 7064 MOD 11-2 check
// character (GB 11643-1999).
func validResidentID(id string) bool {
	if len(id) != 18 || !residentIDShape(id) {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
		sum += int(id[i]-'0') * weights[i]
	}
	check := "10X98765432"[sum%11]
	last := id[17]
	if last == 'x' {
		last = 'X'
	}
	return last == check
}

// residentIDShape reports whether 18 characters are laid out as a resident
// ID: a region code starting 1–9 and a birth date from 1900 on in
// characters 7–14. The check character is not looked at.
func residentIDShape(id string) bool {
	if len(id) != 18 || id[0] < '1' || id[0] > '9' {
		return false
	}
	year, month, day := atoi(id[6:10]), atoi(id[10:12]), atoi(id[12:14])
	return year >= 1900 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31
}

// validBankCard checks 16–19 digits with the Luhn algorithm.
func validBankCard(num string) bool {
	if len(num) < 16 || len(num) > 19 {
		return false
	}
	sum := 0
	for i := len(num) - 1; i >= 0; i-- {
		c := num[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if (len(num)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// cardIssuer reports whether a card number starts as a payment card
// issuer's do: 3, 4, 5, 6 or 9, or 2221–2720.
func cardIssuer(num string) bool {
	switch num[0] {
	case '3', '4', '5', '6', '9':
		return true
	case '2':
		p := atoi(num[:4])
		return p >= 2221 && p <= 2720
	}
	return false
}

// validMobile checks a mainland mobile number, with or without a leading 86.
func validMobile(num string) bool {
	switch {
	case len(num) == 13 && strings.HasPrefix(num, "86"):
		num = num[2:]
	case len(num) == 15 && strings.HasPrefix(num, "0086"):
		num = num[4:]
	}
	return len(num) == 11 && num[0] == '1' && num[1] >= '3' && num[1] <= '9'
}

// validAreaCode checks the area code a landline match starts with (after
// an opening bracket): 010 or 02x, or four digits from 03xx to 09xx.
func validAreaCode(m string) bool {
	m = strings.TrimPrefix(strings.TrimPrefix(m, "("), "（")
	n := 0
	for n < len(m) && isDigit(m[n]) {
		n++
	}
	switch n {
	case 3:
		return m[1] == '1' && m[2] == '0' || m[1] == '2'
	case 4:
		return m[1] >= '3'
	}
	return false
}

// ---- IPv4

var ipv4Re = regexp.MustCompile(`[0-9]{1,3}(?:\.[0-9]{1,3}){3}`)

// hasDottedQuad is the IPv4 detector's prefilter: three dots, five digits.
func hasDottedQuad(s string, d int) bool { return d >= 5 && strings.Count(s, ".") >= 3 }

// findIPv4 finds IPv4 addresses: four octets of 0–255 without leading
// zeros, standing apart (not part of "1.2.3.4.5" or "v1.2.3.4"), where an
// address is meant: after a mark ("IP", "地址", "服务器", "网关", "主机",
// "host", "server" in the 24 bytes before it), with a port or a prefix
// length after it (":8080", "/24"), or set apart from Chinese text (spaces,
// ASCII punctuation or the start of the value before it). Medical text
// loses the "×" of a size often enough ("囊肿5.64.52.9" is 5.6×4.5×2.9 cm)
// that a quad glued to Chinese text without a mark stays. A quad of
// one-digit octets ("1.2.3.4", "3.1.2.1") is read as a section or version
// number: those are common in guidelines, while an address like that is a
// public resolver, not a person's. After "版本" or "version" no quad is
// an address.
func findIPv4(s string) []span {
	var out []span
	for _, l := range ipv4Re.FindAllStringIndex(s, -1) {
		from, to := l[0], l[1]
		if from > 0 && (isASCIIAlnum(s[from-1]) || s[from-1] == '.') ||
			to < len(s) && (isASCIIAlnum(s[to]) || s[to] == '.' && to+1 < len(s) && isDigit(s[to+1])) {
			continue
		}
		if !validIPv4(s[from:to]) || versionMarked(s[:from]) {
			continue
		}
		if !addressMarked(s[max(0, from-24):from]) && !portOrPrefix(s[to:]) && !(from == 0 || s[from-1] < utf8.RuneSelf) {
			continue
		}
		out = append(out, span{from, to})
	}
	return out
}

// addressMarked reports whether before holds a mark that a network address
// follows.
func addressMarked(before string) bool {
	for _, m := range []string{"地址", "服务器", "网关", "主机"} {
		if strings.Contains(before, m) {
			return true
		}
	}
	return hasFoldASCII(before, "ip") || hasFoldASCII(before, "host") || hasFoldASCII(before, "server")
}

// portOrPrefix reports whether rest starts with ":" or "/" and a digit: a
// port or a prefix length after an address.
func portOrPrefix(rest string) bool {
	return len(rest) >= 2 && (rest[0] == ':' || rest[0] == '/') && isDigit(rest[1])
}

// validIPv4 checks four dotted octets: 0–255, no leading zero, and at least
// one of more than one digit.
func validIPv4(q string) bool {
	long := false
	for _, o := range strings.Split(q, ".") {
		if len(o) > 1 && o[0] == '0' || atoi(o) > 255 {
			return false
		}
		long = long || len(o) > 1
	}
	return long
}

// versionMarked reports whether before ends in a version mark ("版本号：",
// "version ", "ver.").
func versionMarked(before string) bool {
	before = strings.TrimRight(before, " :：")
	if strings.HasSuffix(before, "版本") || strings.HasSuffix(before, "版本号") {
		return true
	}
	before = strings.TrimSuffix(before, ".")
	for _, w := range []string{"version", "ver"} {
		if len(before) >= len(w) && hasPrefixFoldASCII(before[len(before)-len(w):], w) {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
