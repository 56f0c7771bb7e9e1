// Package segment splits Chinese text into words with gojieba, sharing one
// Jieba instance per process: building one reads ≈130 MB of dictionaries and
// takes about half a second, so every step that needs words (near-dedup,
// stats, BLEU/ROUGE, BM25) asks this package instead of making its own.
//
// gojieba finds its dictionaries through the source path recorded at build
// time, so a chimed binary copied to another machine cannot find them there.
// DictDir looks, in order, at the CHIMED_JIEBA_DICT environment variable,
// a "jieba-dict" folder beside the executable, and the build-time path, and
// says what to do when none holds the dictionaries.
package segment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"

	"github.com/yanyiwu/gojieba"
)

// EnvDictDir names the environment variable that points at gojieba's dict folder.
const EnvDictDir = "CHIMED_JIEBA_DICT"

// dictFiles are the files gojieba needs, in NewJieba's argument order.
var dictFiles = []string{"jieba.dict.utf8", "hmm_model.utf8", "user.dict.utf8", "idf.utf8", "stop_words.utf8"}

// DictDir finds a folder holding gojieba's dictionaries.
func DictDir() (string, error) {
	var tried []string
	try := func(dir string) bool {
		if dir == "" {
			return false
		}
		tried = append(tried, dir)
		for _, f := range dictFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				return false
			}
		}
		return true
	}
	if d := os.Getenv(EnvDictDir); d != "" {
		if try(d) {
			return d, nil
		}
		return "", fmt.Errorf("%s=%s does not hold gojieba's dictionaries (%s)", EnvDictDir, d, strings.Join(dictFiles, ", "))
	}
	if exe, err := os.Executable(); err == nil {
		if d := filepath.Join(filepath.Dir(exe), "jieba-dict"); try(d) {
			return d, nil
		}
	}
	if try(gojieba.DICT_DIR) {
		return gojieba.DICT_DIR, nil
	}
	return "", fmt.Errorf("gojieba's dictionaries were not found (tried %s): set %s to a folder holding %s, "+
		"e.g. a copy of $(go env GOMODCACHE)/github.com/yanyiwu/gojieba@v1.4.6/deps/cppjieba/dict",
		strings.Join(tried, ", "), EnvDictDir, strings.Join(dictFiles, ", "))
}

var shared struct {
	once sync.Once
	j    *gojieba.Jieba
	err  error
}

// Jieba returns the process's one Jieba instance, making it on first use.
// gojieba's Cut is safe for concurrent use.
func Jieba() (*gojieba.Jieba, error) {
	shared.once.Do(func() {
		dir, err := DictDir()
		if err != nil {
			shared.err = err
			return
		}
		paths := make([]string, len(dictFiles))
		for i, f := range dictFiles {
			paths[i] = filepath.Join(dir, f)
		}
		shared.j = gojieba.NewJieba(paths...)
	})
	return shared.j, shared.err
}

// ErrNoJieba is wrapped by Words' error when the dictionaries are missing.
var ErrNoJieba = errors.New("no word segmenter")

// Words cuts s into words (HMM on for unknown words) and drops pure
// whitespace tokens, the convention BLEU/ROUGE on jieba words uses.
func Words(s string) ([]string, error) {
	j, err := Jieba()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoJieba, err)
	}
	ws := j.Cut(s, true)
	out := ws[:0]
	for _, w := range ws {
		if strings.TrimFunc(w, unicode.IsSpace) != "" {
			out = append(out, w)
		}
	}
	return out, nil
}
