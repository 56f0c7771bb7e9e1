package clean

import (
	"regexp"
	"strings"
)

// piiMasker replaces personal data with typed placeholders, so training data
// keeps the shape of a sentence ("请拨打[PHONE]") without the person:
//
//	[EMAIL]    e-mail addresses
//	[URL]      http(s):// and www. addresses
//	[ID]       18-digit resident identity numbers whose ISO 7064 MOD 11-2
//	           check digit and birth date are valid
//	[BANKCARD] 16–19 digit card numbers (optionally in groups of four) that
//	           pass the Luhn check
//	[PHONE]    mainland mobile numbers (1[3-9]x, 11 digits, optional +86 and
//	           separators) and landlines written with an area code and a
//	           separator ("010-12345678", "(0571)87654321")
//	[QQ]       QQ numbers, only where marked ("QQ：12345678")
//	[WECHAT]   WeChat ids, only where marked ("微信：abc_123")
//
// A number glued to other digits or letters is never masked, and numbers that
// fail validation stay as they are: doses, dates, lab values, ICD codes and
// case numbers are common in medical text and must survive. The table test
// in pii_test.go holds the negatives. Detectors run in the order e-mail,
// URL, QQ, WeChat, ID, bank card, phone, so the digits of an address are not
// read as a phone number and a marked WeChat id that is a phone number is
// [WECHAT].
// Counters: "pii.email", "pii.url", "pii.id", "pii.bankcard", "pii.phone",
// "pii.qq", "pii.wechat".
type piiMasker struct{}

func init() {
	register("pii", allKinds, func(func(any) error) (any, error) { return piiMasker{}, nil })
}

type piiDetector struct {
	name        string // counter suffix
	placeholder string
	re          *regexp.Regexp
	// group, when > 0, is the submatch replaced (the rest, e.g. "QQ：", stays).
	group int
	// valid, when set, must accept the matched text (digits only, for the
	// number detectors).
	valid func(string) bool
	// digitBounded: the match must not touch an ASCII letter or digit.
	digitBounded bool
	// may is a cheap test that s can hold a match at all, so the regexp
	// runs only on the few values that might (Go's regexp scans at roughly
	// 20–50 MB/s; these tests at memory speed).
	may func(s string, digits int) bool
}

func hasAt(s string, _ int) bool { return strings.IndexByte(s, '@') >= 0 }
func hasURL(s string, _ int) bool {
	return strings.Contains(s, "://") || strings.Contains(s, "www.") || strings.Contains(s, "WWW.")
}
func hasQQ(s string, d int) bool {
	return d >= 5 && (strings.Contains(s, "QQ") || strings.Contains(s, "qq") || strings.Contains(s, "Qq") ||
		strings.Contains(s, "qQ") || strings.Contains(s, "扣扣"))
}
func hasWeChat(s string, _ int) bool {
	return strings.Contains(s, "微信") || hasWeChatASCII(s)
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
func tenDigits(_ string, d int) bool { return d >= 10 }

var piiDetectors = []piiDetector{
	{name: "email", placeholder: "[EMAIL]", may: hasAt,
		re: regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}`)},
	{name: "url", placeholder: "[URL]", may: hasURL,
		re: regexp.MustCompile(`(?i)(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+`)},
	{name: "qq", placeholder: "[QQ]", group: 1, may: hasQQ,
		re: regexp.MustCompile(`(?i)(?:QQ|扣扣)(?:号码?)?\s*(?:[:：]|是|为)?\s*([1-9][0-9]{4,10})`)},
	{name: "wechat", placeholder: "[WECHAT]", group: 1, may: hasWeChat,
		re: regexp.MustCompile(`(?:微信号?\s*(?:[:：]|是|为)?|(?i:weixin|wechat|vx|wx)号?\s*(?:[:：]|是|为))\s*([A-Za-z][A-Za-z0-9_\-]{5,19}|1[3-9][0-9]{9})`)},
	{name: "id", placeholder: "[ID]", digitBounded: true, valid: validResidentID, may: tenDigits,
		re: regexp.MustCompile(`[1-9][0-9]{16}[0-9Xx]`)},
	{name: "bankcard", placeholder: "[BANKCARD]", digitBounded: true, valid: validBankCard, may: tenDigits,
		re: regexp.MustCompile(`[1-9][0-9]{3}(?:[ \-]?[0-9]{3,4}){3,4}`)},
	{name: "phone", placeholder: "[PHONE]", digitBounded: true, valid: validMobile, may: tenDigits,
		re: regexp.MustCompile(`(?:(?:\+|00)?86[ \-]?)?1[3-9][0-9](?:[ \-]?[0-9]{4}){2}`)},
	{name: "phone", placeholder: "[PHONE]", digitBounded: true, valid: validLandline, may: tenDigits,
		re: regexp.MustCompile(`(?:\(0[1-9][0-9]{1,2}\)|（0[1-9][0-9]{1,2}）|0[1-9][0-9]{1,2}-)[ ]?[2-9][0-9]{6,7}(?:-[0-9]{1,5})?`)},
}

// unchanged implements scanSkipper. Every detector needs an ASCII letter,
// an '@' or at least five ASCII digits (an email its '@'; a URL, and a
// WeChat id or its marker, ASCII letters; a QQ number five digits and the
// others ten or more), so a value whose scan (maybePII) has none of them
// holds nothing to mask: most Chinese text, which then skips the
// detectors' prefilters (4% of clean's CPU on the 1GB demo). piiMayMatch
// in pii_test.go is that test on its own.
func (piiMasker) unchanged(sc *textScan) bool { return !sc.maybePII }

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
		if d.may(s, digits) {
			s = d.mask(s, t)
		}
	}
	return s
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (d *piiDetector) mask(s string, t Tally) string {
	var locs [][]int
	if d.digitBounded {
		locs = numberMatches(d.re, s)
	} else {
		locs = d.re.FindAllStringSubmatchIndex(s, -1)
	}
	if locs == nil {
		return s
	}
	var b strings.Builder
	last, n := 0, 0
	for _, loc := range locs {
		start, end := loc[0], loc[1]
		if d.digitBounded && (start > 0 && isASCIIAlnum(s[start-1]) || end < len(s) && isASCIIAlnum(s[end])) {
			continue
		}
		if d.valid != nil && !d.valid(digitsOf(s[start:end])) {
			continue
		}
		if d.group > 0 {
			start, end = loc[2*d.group], loc[2*d.group+1]
			if end < len(s) && isASCIIAlnum(s[end]) {
				continue
			}
		}
		b.WriteString(s[last:start])
		b.WriteString(d.placeholder)
		last = end
		n++
	}
	if n == 0 {
		return s
	}
	b.WriteString(s[last:])
	t.Add("pii."+d.name, n)
	return b.String()
}

// numberMatches is re.FindAllStringSubmatchIndex(s, -1) for the number
// detectors (ID, bank card, phone), whose matches are made only of digits,
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
	if len(id) != 18 {
		return false
	}
	year := atoi(id[6:10])
	month := atoi(id[10:12])
	day := atoi(id[12:14])
	if year < 1900 || year > 2099 || month < 1 || month > 12 || day < 1 || day > 31 {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(id[i]-'0') * weights[i]
	}
	check := "10X98765432"[sum%11]
	last := id[17]
	if last == 'x' {
		last = 'X'
	}
	return last == check
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

// validLandline checks area code plus a 7 or 8 digit local number (plus an
// optional extension): 10 to 17 digits in all.
func validLandline(num string) bool { return len(num) >= 10 && len(num) <= 17 }

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
