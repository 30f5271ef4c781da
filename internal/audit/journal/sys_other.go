//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package journal

import (
	"errors"
	"os"
)

// lockFile: without flock a journal cannot be kept to one process.
func lockFile(*os.File) error {
	return errors.New("journal: file locking is not supported on this platform")
}
