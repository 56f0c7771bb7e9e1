package clean

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
