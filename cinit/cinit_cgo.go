//go:build cgo

package cinit

// #cgo CFLAGS: -Wall -Wextra -std=gnu11
import "C"
