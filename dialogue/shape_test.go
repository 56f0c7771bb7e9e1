package dialogue

import (
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// turns parses "role:content|role:content" for compact test tables.
func turns(s string) []schemas.Turn {
	var out []schemas.Turn
	if s == "" {
		return out
	}
	for _, p := range strings.Split(s, "|") {
		role, content, _ := strings.Cut(p, ":")
		out = append(out, schemas.Turn{Role: role, Content: content})
	}
	return out
}

func render(parts [][]schemas.Turn) string {
	var ps []string
	for _, p := range parts {
		var ts []string
		for _, t := range p {
			ts = append(ts, t.Role+":"+t.Content)
		}
		ps = append(ps, strings.Join(ts, "|"))
	}
	return strings.Join(ps, " // ")
}

func TestShape(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		in   string
		want string
		why  string
	}{
		{"plain", Config{}, "user:头痛|assistant:多休息", "user:头痛|assistant:多休息", ""},
		{"chinese roles", Config{}, "病人:头痛三天|医生:量血压了吗|患者:没有|大夫:先量血压",
			"user:头痛三天|assistant:量血压了吗|user:没有|assistant:先量血压", ""},
		{"configured role", Config{Roles: map[string]string{"家属": "user"}}, "家属:孩子发烧|医生:多大了",
			"user:孩子发烧|assistant:多大了", ""},
		{"merge same role", Config{}, "user:你好|user:我咳嗽|assistant:几天了|assistant:有痰吗",
			"user:你好\n我咳嗽|assistant:几天了\n有痰吗", ""},
		{"drop empty and unknown", Config{}, "user:  |护士:请稍等|user:咳嗽|assistant: |assistant:多喝水",
			"user:咳嗽|assistant:多喝水", ""},
		{"empty between merges", Config{}, "user:a|assistant:|user:b|assistant:c",
			"user:a\nb|assistant:c", ""},
		{"trim ends", Config{}, "assistant:您好|user:胃痛|assistant:吃过饭吗|user:谢谢",
			"user:胃痛|assistant:吃过饭吗", ""},
		{"system kept in front", Config{}, "system:你是医生|user:发热|assistant:测体温",
			"system:你是医生|user:发热|assistant:测体温", ""},
		{"split by turns", Config{MaxTurns: 4}, "user:1|assistant:2|user:3|assistant:4|user:5|assistant:6",
			"user:1|assistant:2|user:3|assistant:4 // user:5|assistant:6", ""},
		{"split by chars repeats system", Config{MaxChars: 4}, "system:s|user:ab|assistant:cd|user:ef|assistant:gh",
			"system:s|user:ab|assistant:cd // system:s|user:ef|assistant:gh", ""},
		{"long exchange kept whole", Config{MaxChars: 2}, "user:abc|assistant:def", "user:abc|assistant:def", ""},
		{"speaker prefix without role", Config{}, ":病人：头晕|:医生: 量血压|:旁白：无关", "user:头晕|assistant:量血压", ""},
		{"only user", Config{}, "user:在吗|user:有人吗", "", ReasonNoExchange},
		{"only assistant", Config{}, "医生:你好", "", ReasonNoExchange},
		{"empty", Config{}, "", "", ReasonNoExchange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parts, why := NewShaper(c.cfg).Shape(turns(c.in))
			if got := render(parts); got != c.want || why != c.why {
				t.Errorf("got %q (%q), want %q (%q)", got, why, c.want, c.why)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		bad string
	}{
		{Config{}, ""},
		{Config{MaxTurns: 1}, "max_turns"},
		{Config{MaxChars: -5}, "max_chars"},
		{Config{Roles: map[string]string{"护士": "nurse"}}, "roles[护士]"},
	} {
		err := c.cfg.Validate()
		if (err == nil) != (c.bad == "") || (err != nil && !strings.Contains(err.Error(), c.bad)) {
			t.Errorf("%+v: err = %v, want mention of %q", c.cfg, err, c.bad)
		}
	}
}

// FuzzShape checks the shape invariants for any turns: every part starts
// with user (after an optional system turn), ends with assistant, alternates,
// has no empty turn and respects MaxTurns unless one exchange is all it has.
func FuzzShape(f *testing.F) {
	f.Add("病人:头痛|医生:量血压|user:|assistant:x", 4, 10)
	f.Add("system:a|assistant:b|user:c", 2, 1)
	f.Fuzz(func(t *testing.T, in string, maxTurns, maxChars int) {
		cfg := Config{MaxTurns: 2 + int(uint(maxTurns)%20), MaxChars: 1 + int(uint(maxChars)%5000)}
		parts, why := NewShaper(cfg).Shape(turns(in))
		if (len(parts) == 0) != (why != "") {
			t.Fatalf("parts %d with reason %q", len(parts), why)
		}
		for _, p := range parts {
			body := p
			if len(body) > 0 && body[0].Role == schemas.RoleSystem {
				body = body[1:]
			}
			if len(body) < 2 || len(body)%2 != 0 || len(body) > cfg.MaxTurns {
				t.Fatalf("bad part length %d: %v", len(body), p)
			}
			for i, x := range body {
				want := schemas.RoleUser
				if i%2 == 1 {
					want = schemas.RoleAssistant
				}
				if x.Role != want || strings.TrimSpace(x.Content) == "" {
					t.Fatalf("turn %d of %v", i, p)
				}
			}
		}
	})
}
