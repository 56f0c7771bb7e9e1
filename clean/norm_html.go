package clean

import (
	"html"
	"regexp"
	"strings"
)

// htmlNormaliser decodes HTML entities (&ldquo; &quot; &#12290;) with the
// standard library's html.UnescapeString and removes common HTML tags,
// turning block-level ones (<br>, <p>, <li>…) into a line break. Only named
// tags are touched, so "血压<140/90" and "a<b" stay as they are.
// Counter: "html" (entities and tags rewritten).
type htmlNormaliser struct{}

var (
	htmlEntity = regexp.MustCompile(`&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});`)
	htmlTag    = regexp.MustCompile(`(?i)</?(br|p|div|span|b|i|u|em|strong|a|img|font|table|tbody|thead|tr|td|th|ul|ol|li|h[1-6]|sup|sub|center|hr|pre|code|blockquote|section|article)(?:\s[^<>]*)?/?>`)
)

var blockTags = map[string]bool{"br": true, "p": true, "div": true, "li": true, "tr": true, "hr": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "section": true, "article": true, "pre": true}

func init() {
	register("html", allKinds, func(func(any) error) (any, error) { return htmlNormaliser{}, nil })
}

// Normalise implements Normaliser.
func (htmlNormaliser) Normalise(_, s string, t Tally) string {
	if strings.IndexByte(s, '<') >= 0 {
		n := 0
		s = htmlTag.ReplaceAllStringFunc(s, func(tag string) string {
			n++
			m := htmlTag.FindStringSubmatch(tag)
			if blockTags[strings.ToLower(m[1])] {
				return "\n"
			}
			return ""
		})
		t.Add("html", n)
	}
	if strings.IndexByte(s, '&') >= 0 {
		n := 0
		s = htmlEntity.ReplaceAllStringFunc(s, func(e string) string {
			u := html.UnescapeString(e)
			if u != e {
				n++
			}
			return u
		})
		t.Add("html", n)
	}
	return s
}
