package etcdtest

import "syscall"

// sysProcAttr kills etcd when the test process dies without cleaning up
// (e.g. a test timeout panic), so no member outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
