package clean

import (
	"slices"

	"github.com/chimed/chimed/schemas"
)

// SetSerialKinds makes Run finish each kind before it starts the next, as
// it did before a kind's last pass ran beside the next kind, so a test can
// check that both ways write the same bytes. It returns the setting to
// restore.
func SetSerialKinds(on bool) (was bool) {
	was, serialKinds = serialKinds, on
	return was
}

// OutputBytes and CompareOutputs are run_test.go's, for clean_test.
var (
	OutputBytes    = outputBytes
	CompareOutputs = compareOutputs
)

// NamedNormaliser is one default normaliser and its step name, for tests
// that watch what each step does to a value.
type NamedNormaliser struct {
	Name string
	Normaliser
}

// DefaultNormalisers builds the default steps' normalisers that run on
// kind k, in the order a run applies them.
func DefaultNormalisers(k schemas.Kind) ([]NamedNormaliser, error) {
	var out []NamedNormaliser
	for _, name := range defaultOrder {
		f := registry[name]
		if !slices.Contains(f.kinds, k) {
			continue
		}
		c, err := f.build(decoderFor(name, nil))
		if err != nil {
			return nil, err
		}
		if n, ok := c.(Normaliser); ok {
			out = append(out, NamedNormaliser{name, n})
		}
	}
	return out, nil
}
