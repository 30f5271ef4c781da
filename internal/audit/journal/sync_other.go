//go:build !linux

package journal

import "os"

// datasync flushes f to stable storage (fsync; F_FULLFSYNC on macOS).
func datasync(f *os.File) error { return f.Sync() }
