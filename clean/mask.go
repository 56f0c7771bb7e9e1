package clean

// MaskPII masks the personal data in s as clean's pii step does, with the
// same placeholders ([PHONE], [ID], …) and the same validation, so a report
// can show rows that never went through that step (removed/ keeps rows as
// read) without showing the person behind them.
func MaskPII(s string) string {
	return piiMasker{}.Normalise("", s, Tally{})
}
