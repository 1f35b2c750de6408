// Package htpasswd makes, for tests, the lines of an htpasswd file that a
// registry (distribution's htpasswd auth) takes: user:bcrypt(password).
//
// The hash comes from the C library's crypt (libxcrypt, libc6-dev's
// libcrypt-dev on Debian: there wherever cgo builds), which does bcrypt's
// $2b$: no Go bcrypt (golang.org/x/crypto) among mydocker's modules for a
// test's sake, and no hash copied into the test (the password stays a
// choice of the test).
package htpasswd

/*
#cgo LDFLAGS: -lcrypt
#include <crypt.h>
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// Cost is bcrypt's lowest (2^4 rounds): the registry checks the password
// at every request, and a test makes hundreds.
const Cost = 4

// Line is "user:$2b$04$..." for password.
func Line(user, password string) (string, error) {
	prefix := C.CString("$2b$")
	defer C.free(unsafe.Pointer(prefix))
	// A NULL rbytes: crypt_gensalt reads the salt from the OS's random source.
	setting, err := C.crypt_gensalt_ra(prefix, Cost, nil, 0)
	if setting == nil {
		return "", fmt.Errorf("crypt_gensalt($2b$): %v", err)
	}
	defer C.free(unsafe.Pointer(setting))
	phrase := C.CString(password)
	defer C.free(unsafe.Pointer(phrase))
	var data unsafe.Pointer
	var size C.int
	hash, err := C.crypt_ra(phrase, setting, &data, &size)
	defer C.free(data)
	if hash == nil {
		return "", fmt.Errorf("crypt: %v", err)
	}
	h := C.GoString(hash)
	if !strings.HasPrefix(h, "$2b$") {
		return "", fmt.Errorf("crypt gave %q, not a bcrypt hash", h)
	}
	return user + ":" + h, nil
}
