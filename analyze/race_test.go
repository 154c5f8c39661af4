//go:build race

package analyze_test

// raceEnabled skips the million-packet test, which the race detector
// makes take minutes.
const raceEnabled = true
