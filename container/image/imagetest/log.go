package imagetest

import (
	"io"
	"log"
)

// nilLogger keeps the registry's request log out of the test output.
func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }
