package ingest

import (
	"strings"
	"testing"
)

func TestExprEval(t *testing.T) {
	record := map[string]any{
		"title":         "高血压能吃党参吗？",
		"ask":           "我有高血压，想问问。",
		"repeat":        "高血压能吃党参吗？我有高血压",
		"empty":         "",
		"list":          []any{"第一行", "", "第二行"},
		"nested":        map[string]any{"@value": "腹腔镜", "deep": []any{map[string]any{"x": "y"}}},
		"Disease Group": "不符合",
		"a.b":           "dotted",
		"n":             float64(3),
		"cure":          []any{"内科", "呼吸内科"},
		"obj":           map[string]any{"k": "v"},
	}
	tests := []struct {
		expr, want, err string
	}{
		{expr: "title", want: "高血压能吃党参吗？"},
		{expr: "nested.@value", want: "腹腔镜"},
		{expr: "nested.deep[0].x", want: "y"},
		{expr: "Disease Group", want: "不符合"},
		{expr: `["a.b"]`, want: "dotted"},
		{expr: "list", want: "第一行\n第二行"},
		{expr: "cure[-1]", want: "呼吸内科"},
		{expr: "cure[0]", want: "内科"},
		{expr: "cure[5]", want: ""},
		{expr: "n", want: "3"},
		{expr: "missing", want: ""},
		{expr: "'lit'", want: "lit"},
		{expr: `'a\'b\n'`, want: "a'b\n"},
		{expr: "title + '，' + ask", want: "高血压能吃党参吗？，我有高血压，想问问。"},
		{expr: "title + '，' + empty", want: "高血压能吃党参吗？"},
		{expr: "empty + '，' + ask", want: "我有高血压，想问问。"},
		{expr: "'Q: ' + empty + '\n' + ask", want: "Q: 我有高血压，想问问。"},
		{expr: "'Q: ' + empty", want: ""},
		{expr: "ask + '!'", want: "我有高血压，想问问。!"},
		{expr: "title + ', ' + missing + ', ' + ask", want: "高血压能吃党参吗？, 我有高血压，想问问。"},
		{expr: "missing | title", want: "高血压能吃党参吗？"},
		{expr: "title | ask", want: "高血压能吃党参吗？"},
		{expr: "dedup(title + '，' + repeat)", want: "高血压能吃党参吗？我有高血压"},
		{expr: "dedup(title + '，' + ask)", want: "高血压能吃党参吗？，我有高血压，想问问。"},
		{expr: "obj", err: "is not text"},
		{expr: "nested.deep", err: "is not text"},
		{expr: "obj | title", want: "高血压能吃党参吗？"},
		{expr: "$.title", want: "高血压能吃党参吗？"},
		{expr: "$", err: "is not text"},
	}
	for _, tt := range tests {
		e, err := parseExpr(tt.expr)
		if err != nil {
			t.Errorf("parseExpr(%q): %v", tt.expr, err)
			continue
		}
		got, err := e.eval(scope{record: record, elem: record})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("eval(%q) error = %v, want %q", tt.expr, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("eval(%q) = %q, %v; want %q", tt.expr, got, err, tt.want)
		}
	}
}

func TestExprElementScope(t *testing.T) {
	record := map[string]any{"text": "句子", "spo": []any{"x"}}
	elem := map[string]any{"subject": "胆囊炎"}
	for expr, want := range map[string]string{"subject": "胆囊炎", "$.text": "句子", "text": "", "subject + '@' + $.text": "胆囊炎@句子"} {
		e, err := parseExpr(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.eval(scope{record: record, elem: elem}); err != nil || got != want {
			t.Errorf("eval(%q) = %q, %v; want %q", expr, got, err, want)
		}
	}
	e, _ := parseExpr(".")
	if got, _ := e.eval(scope{record: record, elem: "字符串"}); got != "字符串" {
		t.Errorf(`"." = %q`, got)
	}
}

func TestExprParseErrors(t *testing.T) {
	for _, src := range []string{"", "a +", "+ a", "a | ", "'open", "a[", "a[x]", "a..b", "dedup(a", "a b'c'", ".x", `a['k']`} {
		if _, err := parseExpr(src); err == nil {
			t.Errorf("parseExpr(%q) = nil error, want one", src)
		} else if !strings.Contains(err.Error(), "expression") {
			t.Errorf("parseExpr(%q) error %q does not name the expression", src, err)
		}
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"title + '，' + ask", "a.b[0].@value | c", `["x+y"][-1]`, "dedup(a + b)", "$.text", ".", "'\\n'"} {
		f.Add(s)
	}
	record := map[string]any{"a": map[string]any{"b": []any{"x", map[string]any{"c": 1.5}}}, "title": "t"}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := parseExpr(src)
		if err != nil {
			return
		}
		_, _ = e.eval(scope{record: record, elem: record})
		_ = e.paths()
		for _, p := range e.paths() {
			_ = p.String()
		}
	})
}
