//go:build linux || darwin

package kubelet

import (
	"path/filepath"
	"syscall"
)

// diskTotal returns the size of the filesystem holding dir, or of its
// nearest existing parent (0 if unknown).
func diskTotal(dir string) int64 {
	if dir == "" {
		dir = "."
	}
	for {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err == nil {
			return int64(st.Blocks) * int64(st.Bsize) //nolint:unconvert // field types differ by OS
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return 0
		}
		dir = parent
	}
}
