package export

// These tests read each export the way its target's own loader does: the
// same file globs, the same keys, the same type assumptions. Each check
// cites the loader's file and line at the commit read:
//   - MedicalGPT (shibing624/MedicalGPT) at 2f1008c (current) and, for
//     medicalgpt-legacy, at 14f6229 (the last commit before the April 2026
//     rename) and 721e027 (October 2023, the Qilin-Med era);
//   - TRL (huggingface/trl) at f2cd577;
//   - LLaMA-Factory (hiyouga/LLaMA-Factory) at ff6d4d1.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// globRecursive lists the files under dir whose names end in one of exts,
// as Python's glob(f"{dir}/**/*{ext}", recursive=True) does, one ext after
// the other, each sorted.
func globRecursive(t *testing.T, dir string, exts ...string) []string {
	t.Helper()
	var out []string
	for _, ext := range exts {
		var found []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ext) && !strings.HasPrefix(d.Name(), ".") {
				found = append(found, p)
			}
			return err
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out
}

// jsonRows reads a JSON Lines file into generic rows, as datasets' "json"
// builder does, and checks what pyarrow's JSON reader needs to build one
// table of it: every row an object, each key holding one JSON type in
// every row where it is not null.
func jsonRows(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	types := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<26)
	for n := 1; sc.Scan(); n++ {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		for k, v := range row {
			if v == nil {
				continue
			}
			typ := fmt.Sprintf("%T", v)
			if prev, ok := types[k]; ok && prev != typ {
				t.Fatalf("%s:%d: %q is a %s here and a %s before: pyarrow cannot type the column", path, n, k, typ, prev)
			}
			types[k] = typ
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// splitDirs lists the split folders under a stage folder of a MedicalGPT
// export (what a user passes as --train_file_dir / --validation_file_dir).
func splitDirs(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no split folders", dir)
	}
	return out
}

// everyFileGlobbed fails when a folder holds a file the script's glob would
// not pick up: data the user thinks they train on, silently unread.
func everyFileGlobbed(t *testing.T, dir string, globbed []string) {
	t.Helper()
	all := globRecursive(t, dir, "")
	sort.Strings(globbed)
	if !slices.Equal(all, globbed) {
		t.Errorf("%s: the script reads %v of %v", dir, globbed, all)
	}
}

// shareGPTToChat turns ShareGPT turns into role/content messages as
// MedicalGPT does (training/dpo_training.py:324-335 and
// training/supervised_finetuning.py:467-486 at 2f1008c: "from" human/user
// → user, gpt/assistant → assistant, a leading system turn becomes the
// system prompt) and pairs them into [question, answer] history the way
// both scripts do (dpo_training.py:343-357). It fails on a turn those
// scripts would drop without a word.
func shareGPTToChat(t *testing.T, where string, source any) (system string, history [][2]string, pending string) {
	t.Helper()
	turns, ok := source.([]any)
	if !ok {
		t.Fatalf("%s: conversations is %T, not a list", where, source)
	}
	var msgs []schemas.Turn
	for _, s := range turns {
		sentence, ok := s.(map[string]any)
		if !ok {
			t.Fatalf("%s: a turn is %T", where, s)
		}
		from, _ := sentence["from"].(string)    // sentence.get("from", "")
		value, ok := sentence["value"].(string) // sentence.get("value", "")
		if !ok {
			t.Fatalf("%s: a turn's value is %T", where, sentence["value"])
		}
		switch from {
		case "system":
			system = value
		case "human", "user":
			msgs = append(msgs, schemas.Turn{Role: schemas.RoleUser, Content: value})
		case "gpt", "assistant":
			msgs = append(msgs, schemas.Turn{Role: schemas.RoleAssistant, Content: value})
		default:
			t.Fatalf("%s: from %q is a role MedicalGPT ignores", where, from)
		}
	}
	var temp []string
	for _, m := range msgs {
		switch {
		case len(temp) == 0 && m.Role == schemas.RoleUser:
			temp = append(temp, m.Content)
		case len(temp) == 1 && m.Role == schemas.RoleAssistant:
			history = append(history, [2]string{temp[0], m.Content})
			temp = nil
		default:
			// MedicalGPT merges a second user turn into the first or an
			// assistant turn into the last answer; chimed never writes one.
			t.Fatalf("%s: turns do not alternate user/assistant: %v", where, msgs)
		}
	}
	if len(temp) == 1 {
		pending = temp[0]
	}
	return system, history, pending
}

// checkMedicalGPT reads export/medicalgpt/ as MedicalGPT at 2f1008c does.
func checkMedicalGPT(t *testing.T, out string) (rows map[string]int) {
	t.Helper()
	rows = map[string]int{}
	// training/pretraining.py:494-511: **/*.txt then **/*.jsonl, all of one
	// type, loaded with the "text" builder: one example a line.
	for _, dir := range splitDirs(t, filepath.Join(out, "pretrain")) {
		files := globRecursive(t, dir, ".txt", ".jsonl")
		everyFileGlobbed(t, dir, files)
		for _, f := range files {
			if !strings.HasSuffix(f, ".txt") {
				t.Fatalf("%s: pretraining.py:499 refuses a folder mixing txt and jsonl", dir)
			}
			rows["pretrain"] += int(checkCPT(t, f))
		}
	}
	// training/supervised_finetuning.py:420 globs **/*.jsonl, :427 loads
	// them with tool_utils.py:331 load_local_json_datasets, :454 reads
	// examples['conversations'] and :467-468 each sentence's from/value;
	// :515 drops a chat with no complete exchange.
	for _, tree := range []string{"sft", "adapt"} {
		for _, dir := range splitDirs(t, filepath.Join(out, tree)) {
			files := globRecursive(t, dir, ".jsonl")
			everyFileGlobbed(t, dir, files)
			for _, f := range files {
				for i, ex := range jsonRows(t, f) {
					where := fmt.Sprintf("%s:%d", f, i+1)
					_, history, pending := shareGPTToChat(t, where, ex["conversations"])
					if len(history) == 0 || pending != "" {
						t.Fatalf("%s: SFT chat without a whole last exchange (history %v, pending %q)", where, history, pending)
					}
					rows[tree]++
				}
			}
		}
	}
	// training/dpo_training.py:266 globs **/*.jsonl only; :391 reads
	// examples["conversations"], :394-395 examples["chosen"] and
	// examples["rejected"]; :369-370 build the prompt with
	// add_generation_prompt, so it must end with a user turn; :431 takes
	// len(x['prompt'] + x['chosen']), so the answers must be strings.
	for _, dir := range splitDirs(t, filepath.Join(out, "reward")) {
		files := globRecursive(t, dir, ".jsonl")
		everyFileGlobbed(t, dir, files)
		for _, f := range files {
			for i, ex := range jsonRows(t, f) {
				where := fmt.Sprintf("%s:%d", f, i+1)
				_, _, pending := shareGPTToChat(t, where, ex["conversations"])
				if pending == "" {
					t.Fatalf("%s: the DPO prompt does not end with a user turn", where)
				}
				for _, k := range []string{"chosen", "rejected"} {
					if s, ok := ex[k].(string); !ok || s == "" {
						t.Fatalf("%s: %s is %#v, not a non-empty string", where, k, ex[k])
					}
				}
				rows["reward"]++
			}
		}
	}
	return rows
}

// checkMedicalGPTLegacy reads export/medicalgpt-legacy/ as MedicalGPT did
// before April 2026.
func checkMedicalGPTLegacy(t *testing.T, out string) (rows map[string]int) {
	t.Helper()
	rows = map[string]int{}
	// training/pretraining.py:494-496 at 14f6229: **/*.txt, *.json, *.jsonl.
	for _, dir := range splitDirs(t, filepath.Join(out, "pretrain")) {
		files := globRecursive(t, dir, ".txt", ".json", ".jsonl")
		everyFileGlobbed(t, dir, files)
		for _, f := range files {
			rows["pretrain"] += int(checkCPT(t, f))
		}
	}
	// training/supervised_finetuning.py:420 at 14f6229 globs **/*.json and
	// **/*.jsonl under finetune/ (its data folder then), :460 reads
	// examples['conversations'].
	for _, dir := range splitDirs(t, filepath.Join(out, "finetune")) {
		files := globRecursive(t, dir, ".json", ".jsonl")
		everyFileGlobbed(t, dir, files)
		for _, f := range files {
			for i, ex := range jsonRows(t, f) {
				_, history, pending := shareGPTToChat(t, fmt.Sprintf("%s:%d", f, i+1), ex["conversations"])
				if len(history) == 0 || pending != "" {
					t.Fatalf("%s:%d: SFT chat without a whole last exchange", f, i+1)
				}
				rows["finetune"]++
			}
		}
	}
	// training/dpo_training.py:266 at 14f6229 globs **/*.json and
	// **/*.jsonl; a file without "conversations" takes the Alpaca branch,
	// :431 zip(examples["system"], examples["history"], examples["question"]),
	// :441 `for h_q, h_a in history`, :448-449 examples["response_chosen"]
	// and examples["response_rejected"]. At 721e027 (2023) dpo_training.py:227-229
	// read only question, response_chosen and response_rejected.
	for _, dir := range splitDirs(t, filepath.Join(out, "reward")) {
		files := globRecursive(t, dir, ".json", ".jsonl")
		everyFileGlobbed(t, dir, files)
		for _, f := range files {
			for i, ex := range jsonRows(t, f) {
				where := fmt.Sprintf("%s:%d", f, i+1)
				if _, ok := ex["conversations"]; ok {
					t.Fatalf("%s: a legacy row with conversations takes the ShareGPT branch", where)
				}
				if _, ok := ex["system"].(string); !ok {
					t.Fatalf("%s: system is %#v", where, ex["system"])
				}
				history, ok := ex["history"].([]any)
				if !ok {
					t.Fatalf("%s: history is %#v, not a list", where, ex["history"])
				}
				for _, h := range history {
					if pair, ok := h.([]any); !ok || len(pair) != 2 {
						t.Fatalf("%s: a history entry %#v is not a [question, answer] pair", where, h)
					}
				}
				for _, k := range []string{"question", "response_chosen", "response_rejected"} {
					if s, ok := ex[k].(string); !ok || s == "" {
						t.Fatalf("%s: %s is %#v, not a non-empty string", where, k, ex[k])
					}
				}
				rows["reward"]++
			}
		}
	}
	return rows
}

// isConversational is TRL's trl/data_utils.py:184-196 at f2cd577: the
// first of prompt/chosen/rejected/completion/messages the example has
// (a set, so any of them) is a list whose first element is a dict with
// "role".
func isConversational(ex map[string]any, key string) bool {
	list, ok := ex[key].([]any)
	if !ok || len(list) == 0 {
		return false
	}
	m, ok := list[0].(map[string]any)
	if !ok {
		return false
	}
	_, ok = m["role"]
	return ok
}

// checkTRL reads export/trl/'s JSON Lines files as TRL's trainers do, and
// checks each Parquet twin holds the same rows.
func checkTRL(t *testing.T, out string, form TRLDPOForm) (rows map[string]int) {
	t.Helper()
	rows = map[string]int{}
	for _, f := range globRecursive(t, out, ".jsonl") {
		rel, _ := filepath.Rel(out, f)
		stage := strings.Split(filepath.ToSlash(rel), "/")[0]
		exs := jsonRows(t, f)
		for i, ex := range exs {
			where := fmt.Sprintf("%s:%d", f, i+1)
			switch shapeOf(stage) {
			case schemas.ShapeText:
				// trl/trainer/sft_trainer.py:1516-1518: example[dataset_text_field],
				// "text" by default (sft_config.py:182).
				if _, ok := ex["text"].(string); !ok {
					t.Fatalf("%s: text is %#v", where, ex["text"])
				}
			case schemas.ShapeChat:
				// sft_trainer.py:1506-1510: a conversational example's
				// example["messages"] goes through the chat template.
				if !isConversational(ex, "messages") {
					t.Fatalf("%s: messages is not conversational: %#v", where, ex["messages"])
				}
			case schemas.ShapePair:
				// trl/trainer/dpo_trainer.py:1002 and :1024 decide on
				// is_conversational(example), which looks at whichever key
				// comes first out of a set, so all three must agree;
				// :1033-1038 concatenate example["prompt"] +
				// example["chosen"], lists in the conversational form,
				// strings (:1007 .endswith) in the standard one.
				conv := isConversational(ex, "prompt")
				for _, k := range []string{"chosen", "rejected"} {
					if isConversational(ex, k) != conv {
						t.Fatalf("%s: prompt and %s disagree on being conversational", where, k)
					}
				}
				if conv != (form == TRLConversational) {
					t.Fatalf("%s: conversational = %v in the %s form", where, conv, form)
				}
				if conv {
					prompt := ex["prompt"].([]any)
					if last := prompt[len(prompt)-1].(map[string]any); last["role"] != schemas.RoleUser {
						t.Fatalf("%s: add_generation_prompt after a %v turn (dpo_trainer.py:1025-1029)", where, last["role"])
					}
					for _, k := range []string{"chosen", "rejected"} {
						if l := ex[k].([]any); len(l) != 1 || l[0].(map[string]any)["role"] != schemas.RoleAssistant {
							t.Fatalf("%s: %s is not one assistant message", where, k)
						}
					}
				} else {
					for _, k := range []string{"prompt", "chosen", "rejected"} {
						if _, ok := ex[k].(string); !ok {
							t.Fatalf("%s: %s is %#v, not a string", where, k, ex[k])
						}
					}
				}
			}
			rows[stage]++
		}
		// load_dataset("parquet") on the twin gives the same examples.
		pq := strings.TrimSuffix(f, ".jsonl") + ".parquet"
		var got []string
		switch shapeOf(stage) {
		case schemas.ShapeText:
			got = parquetAsJSON[TRLText](t, pq)
		case schemas.ShapeChat:
			got = parquetAsJSON[TRLChat](t, pq)
		case schemas.ShapePair:
			if form == TRLStandard {
				got = parquetAsJSON[TRLPreference](t, pq)
			} else {
				got = parquetAsJSON[TRLChatPreference](t, pq)
			}
		}
		b, _ := os.ReadFile(f)
		if want := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); !slices.Equal(got, want) {
			t.Errorf("%s holds other rows than %s", pq, f)
		}
	}
	return rows
}

// parquetAsJSON reads a Parquet file as rows of T, each as its JSON line.
func parquetAsJSON[T any](t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for r, err := range schemas.ReadFile[T](path) {
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSuffix(buf.String(), "\n"))
	}
	return out
}

// checkLLaMAFactory reads export/llamafactory/ as LLaMA-Factory does: each
// dataset_info.json entry (src/llamafactory/data/parser.py:73-89 at
// ff6d4d1) through its converter (data/converter.py), counting examples the
// converter would drop as broken.
func checkLLaMAFactory(t *testing.T, out string) (rows map[string]int) {
	t.Helper()
	rows = map[string]int{}
	for name, e := range checkDatasetInfo(t, out) {
		col := func(role string) string { return e.Columns[role] }
		for i, ex := range jsonRows(t, filepath.Join(out, e.FileName)) {
			where := fmt.Sprintf("%s:%d", e.FileName, i+1)
			switch e.Formatting {
			case "alpaca":
				// converter.py:94-95 example[prompt] joins the query;
				// :108-115 a ranking example needs str chosen and rejected.
				if s, ok := ex[col("prompt")].(string); !ok || s == "" {
					t.Fatalf("%s: prompt column %q is %#v", where, col("prompt"), ex[col("prompt")])
				}
				if e.Ranking {
					for _, k := range []string{"chosen", "rejected"} {
						if _, ok := ex[col(k)].(string); !ok {
							t.Fatalf("%s: %s column %q is %#v, not a string", where, k, col(k), ex[col(k)])
						}
					}
				}
			case "sharegpt":
				// converter.py:147-156 takes a leading system_tag turn as
				// the system prompt, else example[system]; :160-165 each turn
				// must carry the tag its position expects; :173-176 a
				// non-ranking chat needs an even count.
				msgs, ok := ex[col("messages")].([]any)
				if !ok {
					t.Fatalf("%s: messages column %q is %#v", where, col("messages"), ex[col("messages")])
				}
				if len(msgs) > 0 && msgs[0].(map[string]any)[e.Tags["role_tag"]] == e.Tags["system_tag"] {
					msgs = msgs[1:]
				} else if _, ok := ex[col("system")].(string); !ok {
					t.Fatalf("%s: system column %q is %#v", where, col("system"), ex[col("system")])
				}
				want := [2]string{e.Tags["user_tag"], e.Tags["assistant_tag"]}
				for j, m := range msgs {
					if tag := m.(map[string]any)[e.Tags["role_tag"]]; tag != want[j%2] {
						t.Fatalf("%s: turn %d has tag %v where LLaMA-Factory accepts %s", where, j, tag, want[j%2])
					}
				}
				if len(msgs) == 0 || len(msgs)%2 != 0 {
					t.Fatalf("%s: %d turns: LLaMA-Factory skips the example", where, len(msgs))
				}
			}
			rows[name]++
		}
	}
	return rows
}

// TestLoadersReadExports exports the fixture in every format and reads each
// export the way its target's loader does, counting the examples it gets.
func TestLoadersReadExports(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	newFixture().write(t, ws)
	run := func(format string, opts Options) string {
		if _, err := Run(ws, format, opts); err != nil {
			t.Fatal(err)
		}
		return ws.Export(format)
	}
	// The fixture: dcpt 5+1 (one blank), sft 5+3 (two that do not alternate
	// or end on a user turn), dpo 5+1 (one without a rejected answer) in
	// train; 3 and 1 of each in valid and test.
	if got, want := checkMedicalGPT(t, run("medicalgpt", Options{})), map[string]int{"pretrain": 9, "sft": 10, "reward": 9, "adapt": 9}; !equalCounts(got, want) {
		t.Errorf("medicalgpt: %v, want %v", got, want)
	}
	if got, want := checkMedicalGPTLegacy(t, run("medicalgpt-legacy", Options{})), map[string]int{"pretrain": 9, "finetune": 10, "reward": 9}; !equalCounts(got, want) {
		t.Errorf("medicalgpt-legacy: %v, want %v", got, want)
	}
	for _, form := range []TRLDPOForm{TRLConversational, TRLStandard} {
		if got, want := checkTRL(t, run("trl", Options{TRLDPO: form}), form), map[string]int{"dcpt": 10, "sft": 12, "dpo": 10, "adapt": 9}; !equalCounts(got, want) {
			t.Errorf("trl %s: %v, want %v", form, got, want)
		}
	}
	got := checkLLaMAFactory(t, run("llamafactory", Options{}))
	want := map[string]int{"chimed_dcpt_train": 5, "chimed_dcpt_valid": 3, "chimed_dcpt_test": 1,
		"chimed_sft_train": 6, "chimed_sft_valid": 3, "chimed_sft_test": 1,
		"chimed_dpo_train": 5, "chimed_dpo_valid": 3, "chimed_dpo_test": 1,
		"chimed_adapt_train": 5, "chimed_adapt_valid": 3, "chimed_adapt_test": 1}
	if !equalCounts(got, want) {
		t.Errorf("llamafactory: %v, want %v", got, want)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
