package clean

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSignoffEndings holds the sign-off trimmer to real answer endings: the
// last sentences below are copied from the public samples (Huatuo-26M,
// Huatuo-Llama, Toyhom, COVID MedDialog, DISC-Med, MedicalGPT), behind a
// line of advice where the removal of a whole sentence is tested. Every
// removal takes whole sentences, or whole clauses whose comma becomes "。";
// every keep is unchanged.
func TestSignoffEndings(t *testing.T) {
	const body = "建议多喝水，注意休息。"
	cases := []struct {
		name, in, want string
		n              int64
	}{
		// Whole sign-off sentences go.
		{"huatuo 祝您早日康复", body + "祝您早日康复！", body, 1},
		{"huatuo 祝健康", body + "祝健康。", body, 1},
		{"huatuo 祝好", body + "祝好！", body, 1},
		{"huatuo 祝您的宝宝健康成长", body + "祝您的宝宝健康成长！", body, 1},
		{"huatuo quoted question", body + "以上是对“小孩发烧39度怎么办？”这个问题的建议，希望对您有帮助，祝您健康！", body, 1},
		{"huatuo two sentences", body + "希望我的回答对你有帮助，祝您健康。", body, 1},
		{"huatuo 希望可以帮到您", body + "希望可以帮到您。", body, 1},
		{"medicalgpt 祝患者身体早日恢复健康", body + "祝患者身体早日恢复健康！", body, 1},
		{"medicalgpt 上述的答案期望可以帮助到您", body + "上述的答案期望可以帮助到您，谢谢。", body, 1},
		{"medicalgpt quoted question", body + "以上是对“胃疼吃什么药”这个问题的建议，期望对您有帮助，祝您健康！", body, 1},
		{"toyhom 期望上述的答案可以协助到您", body + "期望上述的答案可以协助到您，谢谢。", body, 1},
		{"toyhom 上述的答案期望可以协助到您", body + "上述的答案期望可以协助到您，谢谢。", body, 1},
		{"toyhom 以上可以做为参考", body + "以上可以做为参考。", body, 1},
		{"toyhom 建议以上可以做为参考", body + "建议以上可以做为参考。", body, 1},
		{"toyhom 感谢您的进行咨询", body + "感谢您的进行咨询，期望我的解释对你有所帮助。", body, 1},
		{"toyhom 以上是对这个问题的建议", body + "以上是对这个问题的建议，期望对您有帮助，祝您身体早日恢复健康！", body, 1},
		{"toyhom quoted question without 这个问题", body + "以上是对“头痛”的建议，感谢您的咨询。", body, 1},
		{"toyhom 期望上述的问题答案可以协助到大家", body + "期望上述的问题答案可以协助到大家。", body, 1},
		{"toyhom 祝您早日恢复健康哦", body + "祝您早日恢复健康哦。", body, 1},
		{"meddialog 如果后续有问题可以随时咨询我", body + "如果后续有问题可以随时咨询我！", body, 1},
		{"meddialog 有问题随时可以咨询我", body + "有问题随时可以咨询我！", body, 1},
		{"meddialog 不客气，祝您早日康复", body + "不用客气，祝您早日康复。", body, 1},
		{"meddialog 希望你能早日康复", body + "希望你能早日康复！", body, 1},
		{"disc-med 如果还有其他问题，请随时向我咨询", body + "如果还有其他问题，请随时向我咨询。", body, 1},
		{"disc-med 如果您还有其他问题，随时都可以向我咨询", body + "如果您还有其他问题，随时都可以向我咨询。", body, 1},
		{"disc-med 祝愿您的孩子早日康复", body + "祝愿您的孩子早日康复！", body, 1},
		{"a chain of sign-offs", body + "希望我的回答对您有所帮助。祝您身体健康！", body, 2},
		{"sign-off with emoji and spaces", body + "祝你健康😊  ", body, 1},

		// Sign-off clauses ending a sentence that says something else: the
		// comma before them becomes a full stop.
		{"toyhom clauses after advice", "患者一定要多看重自身饮食，多吃清淡的食物，以免引发不必要的伤害，期望上述的答案可以协助到你，谢谢。",
			"患者一定要多看重自身饮食，多吃清淡的食物，以免引发不必要的伤害。", 1},
		{"toyhom cut off at a comma in the source", "充足的深度睡眠方才能帮你尽快逃离此病，期望上述的答案可以协助到你，",
			"充足的深度睡眠方才能帮你尽快逃离此病。", 1},
		{"toyhom 以上意见仅供参考", "建议立即就诊，根据医生的意见来立即救治，不要盲目误信广告药物来救治，以免令得病情严重，以上意见仅供参考。",
			"建议立即就诊，根据医生的意见来立即救治，不要盲目误信广告药物来救治，以免令得病情严重。", 1},
		{"medicalgpt-rag 祝你早日康复 without a stop", "因此患者要及时对症治疗，并且日常生活中要规律性生活，防止久坐，祝你早日康复",
			"因此患者要及时对症治疗，并且日常生活中要规律性生活，防止久坐。", 1},
		{"toyhom 平时低盐低脂饮食，祝您早日康复", "期望您尽快复诊医院系统治疗，平时低盐低脂饮食，祝您早日康复。",
			"期望您尽快复诊医院系统治疗，平时低盐低脂饮食。", 1},
		{"toyhom 祝您生活愉快", "应该是不定期监测数据血糖的水平，祝您生活愉快。", "应该是不定期监测数据血糖的水平。", 1},
		{"a lead before the invitation", "多喝温水，如有疑问，欢迎追问。", "多喝温水。", 1},

		// Must keep.
		{"the issue's answer: advice to consult a doctor", "饮食宜清淡，有任何不适或疑问，都可以随时咨询医生。", "", 0},
		{"advice to see a doctor", body + "如有不适请及时就医。", "", 0},
		{"advice to see a doctor, with a comma", body + "如有不适，及时医院就诊就好了，不必过度恐慌！", "", 0},
		{"disc-med advice to consult a doctor", body + "如果症状持续或加重，请及时就医咨询专业医生的意见。", "", 0},
		{"medicalgpt drug label", body + "如正在使用其他药品，使用本品前请咨询医师或药师。", "", 0},
		{"an invitation answering a content clause", body + "有任何不适，欢迎随时咨询。", "", 0},
		{"only sentence of a turn", "谢谢医生！", "", 0},
		{"only sentence is a sign-off", "感谢您的咨询，祝您早日康复！", "", 0},
		{"meddialog opener", "感谢您的信任，病情资料我已详细阅读。", "", 0},
		{"patient's thanks", "我明白了。好的，谢谢医生", "", 0},
		{"bare thanks after an answer", body + "谢谢！", "", 0},
		{"a wish with more after it", body + "祝福患者早日康复，拥有健康的身体和美好的生活。", "", 0},
		{"toyhom content about recovery", body + "好的心情对疾病的恢复很有帮助。", "", 0},
		{"toyhom 期望患者能获得专业救治", body + "同时多看重饮食问题，期望乙肝患者能获得专业救治。", "", 0},
		{"a wish for help that is advice", body + "希望这些方法能帮助你缓解症状。", "", 0},
		{"sign-off in the middle", "感谢您的咨询。您的情况需要复查血常规。", "", 0},
		{"unbalanced quote", body + "他说“祝您健康。", "", 0},
		{"a range is not a sentence end", "每次1~2片，祝您健康", "每次1~2片。", 1},
		{"decimal point is not a sentence end", "每次0.5g.祝您健康", "每次0.5g.", 1},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	n, err := newSignoffNormaliser(signoffSettings{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		want := c.want
		if c.n == 0 {
			want = c.in
		}
		tally := Tally{}
		if got := n.Normalise("answer", c.in, tally); got != want || tally["signoffs"] != c.n {
			t.Errorf("%s: %q\n→ %q (%d removed)\nwant %q (%d)", c.name, c.in, got, tally["signoffs"], want, c.n)
		}
	}
}

// TestSignoffRoleByFirstRune holds the first-rune shortcut to trying every
// pattern on the clause, on clauses made of sign-off fragments and filler.
func TestSignoffRoleByFirstRune(t *testing.T) {
	for _, s := range []signoffSettings{{}, {Patterns: []string{`(?i)thanks?`, `[a-c]x`, `.?好`}, Tails: []string{`谢谢`}}} {
		n, err := newSignoffNormaliser(s)
		if err != nil {
			t.Fatal(err)
		}
		parts := []string{"祝", "您", "你", "早日", "康复", "健康", "希望", "期望", "上述的", "答案", "可以", "协助到", "帮助", "对", "有所",
			"感谢", "谢谢", "咨询", "如果", "还有", "其他", "问题", "随时", "向我", "欢迎", "追问", "以上", "仅供参考", "不客气", "多喝水",
			"Thanks", "thank", "ax", "bx", "好", "“", "”", "医生"}
		r := rand.New(rand.NewPCG(12, 13))
		hits := 0
		for range 20000 {
			var b strings.Builder
			for range 1 + r.IntN(6) {
				b.WriteString(parts[r.IntN(len(parts))])
			}
			clause := b.String()
			want := roleContent
			for _, rule := range n.rules {
				if rule.re.MatchString(clause) {
					want = rule.role
					break
				}
			}
			// The shortcut tries byFirst before anyFirst, so the first
			// matching rule can differ from the loop's; both must agree on
			// whether it is a sign-off at all and on the role when only one
			// rule matches.
			got := n.role(clause)
			if (got == roleContent) != (want == roleContent) {
				t.Fatalf("%+v: role(%q) = %d, trying every rule gives %d", s, clause, got, want)
			}
			if want != roleContent {
				hits++
			}
		}
		if hits < 200 {
			t.Fatalf("only %d sign-off clauses generated", hits)
		}
	}
}

// FuzzSignoffs checks on arbitrary input that the trimmer only ever keeps a
// prefix of its input (plus the "。" that ends a shortened sentence), never
// empties a field and never leaves it ending in a comma it did not end in.
func FuzzSignoffs(f *testing.F) {
	for _, s := range []string{"多喝水。祝您早日康复！", "多喝水，期望上述的答案可以协助到你，谢谢。", "以上是对“头痛？”这个问题的建议，祝您健康！",
		"有任何不适或疑问，都可以随时咨询医生。", "1~2片，祝好", "“。祝好"} {
		f.Add(s)
	}
	n, err := newSignoffNormaliser(signoffSettings{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := n.Normalise("answer", s, Tally{})
		if out == s {
			return
		}
		if base := strings.TrimSuffix(out, "。"); !strings.HasPrefix(s, base) || base == "" {
			t.Fatalf("%q → %q: not a non-empty prefix", s, out)
		}
		if strings.HasSuffix(out, "，") || strings.HasSuffix(out, ",") {
			t.Fatalf("%q → %q ends in a comma", s, out)
		}
	})
}
