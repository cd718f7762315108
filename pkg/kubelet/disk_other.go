//go:build !linux && !darwin

package kubelet

// diskTotal is not measured on this OS.
func diskTotal(string) int64 { return 0 }
