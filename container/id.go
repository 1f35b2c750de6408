package container

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/mydocker/mydocker/internal/names"
)

// NewID returns a random 64-hex container id.
func NewID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate container id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// isID reports whether id has the form NewID makes: 64 lowercase hex digits.
func isID(id string) bool {
	if len(id) != 64 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// ShortID is the 12-character form ps shows.
func ShortID(id string) string { return names.ShortID(id) }

// ValidateName applies docker's rule for container names,
// [a-zA-Z0-9][a-zA-Z0-9_.-]*.
func ValidateName(name string) error {
	if len(name) > 128 || !names.Docker(name) {
		return fmt.Errorf("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	return nil
}

var (
	nameLeft  = []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud", "quirky", "sharp", "tender", "vivid", "witty", "zealous"}
	nameRight = []string{"babbage", "curie", "darwin", "euler", "fermi", "gauss", "hopper", "kepler", "lovelace", "noether", "pasteur", "ritchie", "shannon", "thompson", "torvalds", "turing", "wozniak", "yalow"}
)

// randomName makes a docker-like name from the id's random bytes; taken
// reports names already in use, and a suffix makes the name unique.
func randomName(id string, taken func(string) bool) string {
	b, _ := hex.DecodeString(id[:4])
	base := nameLeft[int(b[0])%len(nameLeft)] + "_" + nameRight[int(b[1])%len(nameRight)]
	name := base
	for i := 2; taken(name); i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	return name
}
