package ingest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

var alpacaHistory = &TurnsMapping{
	System: "system",
	Path:   "history",
	Fixed: []FixedTurn{
		{Role: schemas.RoleUser, Content: `instruction + '\n' + input`},
		{Role: schemas.RoleAssistant, Content: "output"},
	},
}

func TestTurnShapes(t *testing.T) {
	u := func(s string) schemas.Turn { return schemas.Turn{Role: schemas.RoleUser, Content: s} }
	a := func(s string) schemas.Turn { return schemas.Turn{Role: schemas.RoleAssistant, Content: s} }
	sys := func(s string) schemas.Turn { return schemas.Turn{Role: schemas.RoleSystem, Content: s} }
	flat := &TurnsMapping{Path: "history", Fixed: alpacaHistory.Fixed}
	tests := []struct {
		name    string
		turns   *TurnsMapping
		record  string
		want    []schemas.Turn
		skipped []any
		err     string
	}{
		{name: "alpaca with history and system", turns: alpacaHistory,
			record: `{"system":"你是医生","history":[["头痛","多久了？"],["三天","吃药了吗？"]],"instruction":"没有","input":"","output":"先休息。"}`,
			want:   []schemas.Turn{sys("你是医生"), u("头痛"), a("多久了？"), u("三天"), a("吃药了吗？"), u("没有"), a("先休息。")}},
		{name: "alpaca with empty history", turns: alpacaHistory,
			record: `{"history":[],"instruction":"问","output":"答"}`,
			want:   []schemas.Turn{u("问"), a("答")}},
		{name: "alpaca without history", turns: alpacaHistory,
			record: `{"instruction":"问","input":"补充","output":"答"}`,
			want:   []schemas.Turn{u("问\n补充"), a("答")}},
		{name: "history pair of three", turns: alpacaHistory,
			record: `{"history":[["a","b","c"]],"instruction":"问","output":"答"}`, err: "not a [user, assistant] pair"},
		{name: "alternating strings", turns: &TurnsMapping{Path: "d", Alternate: "user"},
			record: `{"d":["你好","您好","头痛","多久了"]}`,
			want:   []schemas.Turn{u("你好"), a("您好"), u("头痛"), a("多久了")}},
		{name: "alternating from the doctor", turns: &TurnsMapping{Path: "d", Alternate: "assistant"},
			record: `{"d":["您好，请讲","头痛"]}`,
			want:   []schemas.Turn{a("您好，请讲"), u("头痛")}},
		{name: "inline angle markers then the final exchange", turns: flat,
			record: `{"history":"<user>: 头痛 <bot>: 多久了？ <user>: 三天 <bot>: 吃药了吗？","instruction":"没有","output":"先休息。"}`,
			want:   []schemas.Turn{u("头痛"), a("多久了？"), u("三天"), a("吃药了吗？"), u("没有"), a("先休息。")}},
		{name: "Chinese markers, full and half-width colons", turns: &TurnsMapping{Path: "t"},
			record: `{"t":"患者：头痛三天。医生:多久了？\n病人： 三天了 大夫：先休息。"}`,
			want:   []schemas.Turn{u("头痛三天。"), a("多久了？"), u("三天了"), a("先休息。")}},
		{name: "same speaker merged, quoted doctor not split", turns: &TurnsMapping{Path: "t"},
			record: `{"t":"患者：头痛。患者：还发烧，我问了医生：怎么办 医生：先量体温"}`,
			want:   []schemas.Turn{u("头痛。\n还发烧，我问了医生：怎么办"), a("先量体温")}},
		{name: "unmarked patient words before the doctor", turns: &TurnsMapping{Path: "t"},
			record: `{"t":"头痛怎么办？ 医生：多休息。"}`,
			want:   []schemas.Turn{u("头痛怎么办？"), a("多休息。")}},
		{name: "heading before the patient kept in meta", turns: &TurnsMapping{Path: "t"},
			record: `{"t":"以下是对话 患者：头痛 医生：休息"}`,
			want:   []schemas.Turn{u("头痛"), a("休息")}, skipped: []any{"以下是对话"}},
		{name: "preamble as system", turns: &TurnsMapping{Path: "t", Preamble: "system"},
			record: `{"t":"你是医生 <human>: 头痛 <gpt>: 休息"}`,
			want:   []schemas.Turn{sys("你是医生"), u("头痛"), a("休息")}},
		{name: "markers in any case, brackets without colon", turns: &TurnsMapping{Path: "t"},
			record: `{"t":"<User> 头痛 【医生】休息 Assistant: 好"}`,
			want:   []schemas.Turn{u("头痛"), a("休息\n好")}},
		{name: "superuser is no marker", turns: &TurnsMapping{Path: "t"},
			record: `{"t":"user: su superuser: x bot: y"}`,
			want:   []schemas.Turn{u("su superuser: x"), a("y")}},
		{name: "no marker at all", turns: &TurnsMapping{Path: "t"},
			record: `{"t":"只有一段话"}`, err: "no speaker marker"},
		{name: "custom markers and skip", turns: &TurnsMapping{Path: "t", Roles: map[string]string{"问": "user", "答": "assistant", "编者按": "skip"}},
			record: `{"t":"问：头痛 编者按：略 答：休息"}`,
			want:   []schemas.Turn{u("头痛"), a("休息")}, skipped: []any{"编者按：略"}},
		{name: "list strings with inline markers", turns: &TurnsMapping{Path: "d", Roles: medDialogRoles},
			record: `{"d":["病人：头痛 医生：多久了","病人：三天"]}`,
			want:   []schemas.Turn{u("头痛"), a("多久了"), u("三天")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := mapOne(t, Source{Kind: "dialogue", Map: Mapping{Turns: tt.turns}}, tt.record)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := rows[0].(*schemas.Dialogue)
			if !reflect.DeepEqual(d.Turns, tt.want) {
				t.Errorf("turns\n got %q\nwant %q", d.Turns, tt.want)
			}
			meta := metaOf(t, rows[0])
			if got, _ := meta["skipped_turns"].([]any); !reflect.DeepEqual(got, tt.skipped) {
				t.Errorf("skipped_turns %v, want %v", got, tt.skipped)
			}
		})
	}
}

func TestTurnsValidated(t *testing.T) {
	for _, tt := range []struct {
		turns *TurnsMapping
		err   string
	}{
		{&TurnsMapping{Path: "d", Alternate: "doctor"}, "alternate"},
		{&TurnsMapping{Path: "d", Preamble: "meta"}, "preamble"},
		{&TurnsMapping{Fixed: alpacaHistory.Fixed, Alternate: "user"}, "turns.path, which is not given"},
		{&TurnsMapping{}, "give path, fixed or both"},
		{&TurnsMapping{Path: "d", System: "a +"}, "turns.system"},
	} {
		s := Source{Name: "s", Kind: "dialogue", Map: Mapping{Turns: tt.turns}}
		if _, err := compileMapping(&s); err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "sources[s].map.turns") {
			t.Errorf("%+v: error %v, want one naming sources[s].map.turns and %q", tt.turns, err, tt.err)
		}
	}
}

// FuzzSplitSpeakers: splitting a string on speaker markers loses no text:
// the preamble and the segments, markers included, are the whole string.
func FuzzSplitSpeakers(f *testing.F) {
	for _, s := range []string{"<user>: 头痛 <bot>: 多久了", "患者：a。医生:b\n医生：c", "前言 【医生】x", "user:user:", "<bot", "患者 ：", ""} {
		f.Add(s)
	}
	tm, err := compileTurns(&TurnsMapping{Path: "t"}, nil, func(path) {})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pre, segs := splitSpeakers(s, tm.markers)
		var b strings.Builder
		b.WriteString(pre)
		for _, sg := range segs {
			if sg.role != schemas.RoleUser && sg.role != schemas.RoleAssistant {
				t.Fatalf("role %q", sg.role)
			}
			if !strings.HasSuffix(sg.raw, sg.text) {
				t.Fatalf("segment text %q is not the end of %q", sg.text, sg.raw)
			}
			b.WriteString(sg.raw)
		}
		if squeeze := strings.Join(strings.Fields(b.String()), ""); squeeze != strings.Join(strings.Fields(s), "") {
			t.Fatalf("text lost: %q → %q", s, b.String())
		}
	})
}
