package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCommitAbortSweep(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "sub", "out.json")
	f, err := Create(final)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{}")
	if _, err := os.Stat(final); !os.IsNotExist(err) {
		t.Fatal("the final name exists before Commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(final)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("committed file: %v, mode %v", err, st.Mode())
	}
	if err := f.Commit(); err == nil {
		t.Fatal("a second Commit succeeded")
	}

	g, _ := Create(filepath.Join(dir, "aborted.json"))
	g.Abort()
	h, _ := Create(filepath.Join(dir, "killed.json")) // as a killed run leaves it
	h.File.Close()
	if err := Sweep(dir); err != nil {
		t.Fatal(err)
	}
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			names = append(names, d.Name())
		}
		return nil
	})
	if len(names) != 1 || names[0] != "out.json" {
		t.Fatalf("left behind: %v", names)
	}
}

func TestWriteJSON(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		v       any
		want    string
		wantErr bool
	}{
		{"object, indented, newline last", map[string]any{"b": 1, "a": []int{2}}, "{\n  \"a\": [\n    2\n  ],\n  \"b\": 1\n}\n", false},
		{"struct keeps field order", struct {
			Z string `json:"z"`
			A int    `json:"a"`
		}{"<x>", 1}, "{\n  \"z\": \"\\u003cx\\u003e\",\n  \"a\": 1\n}\n", false},
		{"unencodable value is an error and no file", map[string]any{"f": func() {}}, "", true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "sub", string(rune('a'+i))+".json")
			err := WriteJSON(path, c.v)
			if c.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Fatalf("a file was left: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != c.want {
				t.Fatalf("wrote %q (%v), want %q", got, err, c.want)
			}
		})
	}
}
