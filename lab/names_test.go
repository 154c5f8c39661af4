package lab

import (
	"regexp"
	"testing"
)

// TestNameCheckersMatchTheirPatterns compares the hand-written checks of
// lab and node names with the patterns they replace.
func TestNameCheckersMatchTheirPatterns(t *testing.T) {
	idRE := regexp.MustCompile(`^[a-z0-9]{1,8}$`)
	nodeRE := regexp.MustCompile(`^[a-z][a-z0-9]{0,9}$`)
	names := []string{"", "a", "0", "r1", "client", "abcdefgh", "abcdefghi", "abcdefghij", "abcdefghijk", "1abc", "A", "a-b", "a_b", "é", "a\n", " a", "z9", "{", "`", "/", ":"}
	for c := 0; c < 256; c++ {
		names = append(names, string(rune(c)), "a"+string([]byte{byte(c)}))
	}
	for _, s := range names {
		if got, want := lowerAlnum(s, 1, 8), idRE.MatchString(s); got != want {
			t.Errorf("lab name %q: %v, want %v", s, got, want)
		}
		if got, want := validNodeName(s), nodeRE.MatchString(s); got != want {
			t.Errorf("node name %q: %v, want %v", s, got, want)
		}
	}
}
